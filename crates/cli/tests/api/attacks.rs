//! Issue 19's attacks on `taskapi serve`, made as a stranger who can reach the port would
//! make them: the stranger and the victim come from different loopback addresses (all of
//! 127/8 is loopback, and any of it can be bound as a client's source address), floods are
//! bounded in time, and each test asserts what the victim gets.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinSet;

use taskapi_testkit::{ChildServer, TestPool};

use crate::faults::{assert_storage_unavailable, ready_with_one_task, start, taskapi};

const HEALTHZ: &str = "GET /healthz HTTP/1.1\r\nHost: taskapi\r\n\r\n";
/// How often each of the attacker's connections sends a request: never idle long enough
/// for the header-read timeout (10 s) to close it.
const ATTACK_PERIOD: Duration = Duration::from_secs(2);
/// How long the victim waits for each answer, and how many requests it makes.
const VICTIM_DEADLINE: Duration = Duration::from_secs(3);
const VICTIM_REQUESTS: usize = 9;

fn socket_addr(server: &ChildServer) -> SocketAddr {
    server.base.trim_start_matches("http://").parse().unwrap()
}

/// A TCP connection to `server` from `source`, a loopback address of the test's choosing.
async fn connect_from(source: [u8; 4], server: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((source, 0)))?;
    socket.connect(server).await
}

/// Sends `request` and reads the whole response; its status, or `None` if the connection
/// closed first.
async fn exchange(stream: &mut TcpStream, request: &str) -> Option<u16> {
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|value| value.trim().parse().ok())
                .unwrap_or(0);
            if response.len() >= end + 4 + length {
                return head.get(9..12)?.parse().ok();
            }
        }
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        response.extend_from_slice(&chunk[..read]);
    }
}

/// `connections` keep-alive connections from each of `sources`, each sending a request
/// every [`ATTACK_PERIOD`] and reconnecting whenever it is closed. Stops when dropped.
fn flood(server: SocketAddr, sources: &[[u8; 4]], connections: usize) -> JoinSet<()> {
    let mut flood = JoinSet::new();
    for &source in sources {
        for _ in 0..connections {
            flood.spawn(async move {
                loop {
                    if let Ok(mut stream) = connect_from(source, server).await {
                        while exchange(&mut stream, HEALTHZ).await == Some(200) {
                            tokio::time::sleep(ATTACK_PERIOD).await;
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            });
        }
    }
    flood
}

/// How many of [`VICTIM_REQUESTS`] requests from 127.0.0.3, one after another each on a new
/// connection, are answered within [`VICTIM_DEADLINE`].
async fn victim_answered(server: SocketAddr) -> usize {
    let mut answered = 0;
    for _ in 0..VICTIM_REQUESTS {
        let request = async {
            let mut stream = connect_from([127, 0, 0, 3], server).await.ok()?;
            exchange(&mut stream, HEALTHZ).await
        };
        if let Ok(Some(200)) = tokio::time::timeout(VICTIM_DEADLINE, request).await {
            answered += 1;
        }
    }
    answered
}

/// A server with room for 16 connections, 4 of them per client address.
fn small_server(pool: &TestPool, data: &std::path::Path) -> ChildServer {
    start(&mut taskapi(
        data,
        Some(&pool.issuer),
        &[
            "--max-connections",
            "16",
            "--max-connections-per-address",
            "4",
        ],
    ))
}

/// Issue 19, item 3: 40 busy keep-alive connections from one address held every slot, and
/// nobody else was answered (0 of 9 before the per-address cap).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_take_every_connection() {
    let (pool, data) = (TestPool::start().await, tempfile::tempdir().unwrap());
    let server = small_server(&pool, data.path());
    let address = socket_addr(&server);
    let _flood = flood(address, &[[127, 0, 0, 2]], 40);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let answered = victim_answered(address).await;
    assert_eq!(
        answered, VICTIM_REQUESTS,
        "the victim's requests answered in time"
    );
}

/// Issue 19, item 3: a full listener closes its longest-idle keep-alive connection to admit
/// a new client, here when six addresses, each within its share, hold every slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_listener_closes_its_idlest_connection_for_a_new_client() {
    let (pool, data) = (TestPool::start().await, tempfile::tempdir().unwrap());
    let server = small_server(&pool, data.path());
    let address = socket_addr(&server);
    let sources: Vec<[u8; 4]> = (10..16).map(|last| [127, 0, 0, last]).collect();
    let _flood = flood(address, &sources, 4);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let answered = victim_answered(address).await;
    assert_eq!(
        answered, VICTIM_REQUESTS,
        "the victim's requests answered in time"
    );
}

/// A client whose requests come from 127.0.0.`last`.
fn client_from(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 0, last]))
        .build()
        .unwrap()
}

/// Issue 19, also: failed authentications were never limited (51k 401s a second from one
/// client). Past its burst (20 by default), a flood of bad tokens from one address gets
/// 429; valid users are served, from another address and from the same one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_bad_tokens_gets_429_and_valid_users_are_served() {
    let (pool, data) = (TestPool::start().await, tempfile::tempdir().unwrap());
    let server = start(&mut taskapi(data.path(), Some(&pool.issuer), &[]));
    let tasks = format!("{}/tasks", server.base);
    let stranger = client_from(2);
    let mut unauthorized = 0;
    let started = std::time::Instant::now();
    for n in 0..60 {
        let response = stranger
            .get(&tasks)
            .header("authorization", format!("Bearer not.a.token{n}"))
            .send()
            .await
            .unwrap();
        match response.status() {
            StatusCode::UNAUTHORIZED => unauthorized += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(response.headers().contains_key("retry-after"));
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["code"], "too_many_requests", "{body}");
            }
            other => panic!("a bad token got {other}"),
        }
    }
    // The burst, and what the rate (5 a second) refilled meanwhile.
    let refilled = (started.elapsed().as_secs_f64() * 5.0).ceil() as usize;
    assert!(
        (20..=20 + refilled).contains(&unauthorized),
        "{unauthorized} of 60 bad tokens got 401 (the rest 429) in {:?}",
        started.elapsed()
    );
    for (who, client) in [("victim", client_from(3)), ("neighbour", stranger)] {
        let response = client
            .get(&tasks)
            .header("authorization", pool.id_token(who, &[]))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{who}");
    }
}

/// Overwrites every page of `path` but the first (the header and the schema) with
/// garbage, and every page image in its write-ahead log, as a failing disk or a stray
/// write would.
fn corrupt_pages(path: &std::path::Path) {
    use std::io::{Seek, SeekFrom, Write};
    const PAGE: u64 = 4096;
    let garbage = vec![0xa5u8; PAGE as usize];
    let mut main = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    let pages = main.metadata().unwrap().len() / PAGE;
    for page in 1..pages {
        main.seek(SeekFrom::Start(page * PAGE)).unwrap();
        main.write_all(&garbage).unwrap();
    }
    let wal_path = format!("{}-wal", path.display());
    let mut wal = std::fs::OpenOptions::new()
        .write(true)
        .open(&wal_path)
        .unwrap();
    // A 32-byte header, then frames of a 24-byte header and a page; the first frame
    // (page 1, the schema) is kept.
    let frames = (wal.metadata().unwrap().len() - 32) / (24 + PAGE);
    for frame in 1..frames {
        wal.seek(SeekFrom::Start(32 + frame * (24 + PAGE) + 24))
            .unwrap();
        wal.write_all(&garbage).unwrap();
    }
    main.sync_all().unwrap();
    wal.sync_all().unwrap();
}

/// Issue 19, also: a database corrupted under a running server answered lists with 500
/// while `/readyz` stayed 200. Corruption is the storage's fault: 503 storage_unavailable;
/// once seen, writes are refused and the server is not ready (it does not heal by itself).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_corrupted_while_running_answers_503_and_is_not_ready() {
    let (_pool, data, _server, api) = ready_with_one_task("corrupted-db-user").await;
    for n in 0..20 {
        assert_eq!(
            api.post(&format!("task {n}")).await.status(),
            StatusCode::CREATED
        );
    }
    corrupt_pages(&data.path().join("tasks.sqlite3"));
    let list = || {
        api.client
            .get(format!("{}/tasks?limit=100", api.base))
            .header("authorization", &api.token)
            .send()
    };
    assert_storage_unavailable(list().await.unwrap()).await;
    api.assert_not_ready("corrupt").await;
    for n in 0..3 {
        assert_storage_unavailable(api.post(&format!("after {n}")).await).await;
        let listed = list().await.unwrap();
        if listed.status() != StatusCode::OK {
            assert_storage_unavailable(listed).await;
        }
    }
    api.assert_not_ready("corrupt").await;
}
