//! Blocking core work from either door waits for one shared bound of permits.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use taskapi_userpool::{HashingLimits, PoolSettings, Tuning, UserPools};

/// One hashing worker and no queue make two permits: a third call waits for a free one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_calls_beyond_the_bound_wait_their_turn() {
    let dir = tempfile::tempdir().unwrap();
    let tuning = Tuning {
        hashing: HashingLimits {
            workers: 1,
            queue: 0,
        },
        ..Tuning::default()
    };
    let pools =
        UserPools::open_with(PoolSettings::new(dir.path(), "http://127.0.0.1:1"), tuning).unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let calls: Vec<_> = (0..5)
        .map(|_| {
            let (pools, running, most) =
                (Arc::clone(&pools), Arc::clone(&running), Arc::clone(&most));
            tokio::spawn(async move {
                pools
                    .run_blocking(move |_| {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(100));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
            })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(most.load(Ordering::SeqCst), 2);
}
