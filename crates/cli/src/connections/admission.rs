//! Which connections are open, and from which client addresses: so that no one client can
//! take every slot (issue 19: 1,100 keep-alive connections from one client, each sending a
//! request every 5 s, held all 1,024 and nobody else was answered), each address gets at
//! most a share of the listener's connections; and when the listener is full, the
//! connection idle longest between requests is closed to admit the next one instead of
//! making it wait for someone to leave.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::Notify;

use super::Activity;

/// The open connections of one listener.
pub(super) struct Admission {
    max_connections: usize,
    max_per_address: usize,
    open: Mutex<Open>,
    /// Notified whenever a connection ends: an admission waiting for a slot tries again.
    ended: Notify,
}

#[derive(Default)]
struct Open {
    next_id: u64,
    connections: HashMap<u64, Arc<Slot>>,
    per_address: HashMap<IpAddr, usize>,
}

/// Why a new connection is not admitted (yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// Its address has its share open already: it is closed.
    AddressFull,
    /// Every slot is taken: it waits for one.
    ListenerFull,
}

/// One open connection, as admission sees it.
pub(super) struct Slot {
    address: IpAddr,
    activity: Arc<Activity>,
    /// Set once the handshake is done and requests are served: only then is the
    /// connection's idleness that of a client between requests.
    serving: AtomicBool,
    /// Requests being answered now.
    in_flight: AtomicUsize,
    /// Asked to close; it is not chosen again.
    closing: AtomicBool,
    /// Wakes the connection's task to close it gracefully (a request in flight is finished).
    close: Notify,
}

impl Slot {
    pub(super) fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }

    pub(super) fn start_serving(&self) {
        self.serving.store(true, Ordering::Relaxed);
    }

    /// Resolves once the connection is asked to close.
    pub(super) async fn close_requested(&self) {
        self.close.notified().await;
    }

    /// Counts a request as in flight until the returned guard is dropped.
    pub(super) fn request(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(Arc::clone(self))
    }

    fn ask_to_close(&self) {
        self.closing.store(true, Ordering::Relaxed);
        self.close.notify_one();
    }

    /// When this connection went idle between requests, if it is.
    fn idle_since(&self) -> Option<Instant> {
        let idle = self.serving.load(Ordering::Relaxed)
            && self.in_flight.load(Ordering::Relaxed) == 0
            && !self.closing.load(Ordering::Relaxed);
        idle.then(|| self.activity.last())
    }
}

/// A request in flight on a connection.
pub(super) struct InFlight(Arc<Slot>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A connection's place among the open ones, given back when dropped.
pub(super) struct Admitted {
    admission: Arc<Admission>,
    id: u64,
    slot: Arc<Slot>,
}

impl Admitted {
    pub(super) fn slot(&self) -> &Arc<Slot> {
        &self.slot
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.admission.open.lock().expect("admission lock");
        open.connections.remove(&self.id);
        if let Some(count) = open.per_address.get_mut(&self.slot.address) {
            *count -= 1;
            if *count == 0 {
                open.per_address.remove(&self.slot.address);
            }
        }
        drop(open);
        self.admission.ended.notify_waiters();
    }
}

impl Admission {
    pub(super) fn new(max_connections: usize, max_per_address: usize) -> Arc<Self> {
        Arc::new(Self {
            max_connections,
            max_per_address,
            open: Mutex::new(Open::default()),
            ended: Notify::new(),
        })
    }

    /// Takes a slot for a connection from `address`, or says why not.
    pub(super) fn admit(
        self: &Arc<Self>,
        address: IpAddr,
        activity: Arc<Activity>,
    ) -> Result<Admitted, Refusal> {
        let mut open = self.open.lock().expect("admission lock");
        let from_address = open.per_address.get(&address).copied().unwrap_or(0);
        if from_address >= self.max_per_address {
            return Err(Refusal::AddressFull);
        }
        if open.connections.len() >= self.max_connections {
            return Err(Refusal::ListenerFull);
        }
        let id = open.next_id;
        open.next_id += 1;
        let slot = Arc::new(Slot {
            address,
            activity,
            serving: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            closing: AtomicBool::new(false),
            close: Notify::new(),
        });
        open.connections.insert(id, Arc::clone(&slot));
        *open.per_address.entry(address).or_insert(0) += 1;
        Ok(Admitted {
            admission: Arc::clone(self),
            id,
            slot,
        })
    }

    /// Asks the connection idle longest between requests to close; false if none is idle.
    pub(super) fn close_idlest(&self) -> bool {
        let open = self.open.lock().expect("admission lock");
        let idlest = open
            .connections
            .values()
            .filter_map(|slot| slot.idle_since().map(|since| (since, slot)))
            .min_by_key(|(since, _)| *since);
        match idlest {
            Some((_, slot)) => {
                slot.ask_to_close();
                true
            }
            None => false,
        }
    }

    /// Resolves when a connection ends (call before checking, so no ending is missed).
    pub(super) fn ended(&self) -> tokio::sync::futures::Notified<'_> {
        self.ended.notified()
    }

    /// Asks every open connection to close once its request in flight is answered.
    pub(super) fn close_all(&self) -> usize {
        let open = self.open.lock().expect("admission lock");
        for slot in open.connections.values() {
            slot.ask_to_close();
        }
        open.connections.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn each_address_gets_its_share_and_the_listener_its_cap() {
        let admission = Admission::new(3, 2);
        let first = admission.admit(address(2), Activity::new()).unwrap();
        let _second = admission.admit(address(2), Activity::new()).unwrap();
        assert_eq!(
            admission.admit(address(2), Activity::new()).err(),
            Some(Refusal::AddressFull)
        );
        let _third = admission.admit(address(3), Activity::new()).unwrap();
        assert_eq!(
            admission.admit(address(4), Activity::new()).err(),
            Some(Refusal::ListenerFull)
        );
        drop(first);
        assert!(admission.admit(address(4), Activity::new()).is_ok());
    }

    #[test]
    fn the_idlest_connection_between_requests_is_closed() {
        let admission = Admission::new(3, 3);
        let connections: Vec<Admitted> = (0..3)
            .map(|_| admission.admit(address(2), Activity::new()).unwrap())
            .collect();
        assert!(!admission.close_idlest(), "none serves requests yet");
        for connection in &connections {
            connection.slot().start_serving();
        }
        // The oldest is busy, the second went quiet before the third.
        let _busy = connections[0].slot().request();
        std::thread::sleep(std::time::Duration::from_millis(5));
        connections[2].slot().activity().touch();
        assert!(admission.close_idlest());
        assert!(connections[1].slot().closing.load(Ordering::Relaxed));
        assert!(!connections[2].slot().closing.load(Ordering::Relaxed));
        assert!(admission.close_idlest(), "then the next idlest");
        assert!(connections[2].slot().closing.load(Ordering::Relaxed));
        assert!(!admission.close_idlest(), "the busy one is not closed");
    }
}
