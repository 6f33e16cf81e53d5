//! The hub: every open socket, by user, with the projects each user belongs to, and the
//! routing of each committed event to the sockets allowed to see it.
//!
//! One task reads the store's live feed in commit order and hands each event to the
//! queues of its sockets without waiting: a queue that is full means a client that does
//! not keep up, and it is closed (it reloads when it reconnects) instead of slowing the
//! feed, and so the writes. Membership is kept current from the events themselves, so a
//! removed member's sockets stop receiving with the event that removed them.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use taskapi_domain::{Audience, EventKind, ProjectId};
use taskapi_store_sqlite::{Committed, SqliteStore};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{Notify, mpsc};

use crate::{Close, LiveError};

/// Limits on the sockets one server holds.
#[derive(Debug, Clone, Copy)]
pub struct LiveLimits {
    /// Sockets open at once, over all users.
    pub max_sockets: usize,
    /// Sockets one user may have open at once (tabs, devices).
    pub max_sockets_per_user: usize,
    /// Events waiting to be sent on one socket; one more closes it as too slow.
    pub queue: usize,
    /// How often a socket is pinged; one that answered none of the last two is closed.
    pub ping_interval: Duration,
}

impl Default for LiveLimits {
    fn default() -> Self {
        Self {
            max_sockets: 10_000,
            max_sockets_per_user: 16,
            queue: 256,
            ping_interval: Duration::from_secs(30),
        }
    }
}

/// Events read again from the table per query while the hub catches up after a lag.
const RESYNC_BATCH: usize = 512;

/// The open sockets and whom they belong to.
pub struct Hub {
    limits: LiveLimits,
    registry: Mutex<Registry>,
    next_id: AtomicU64,
    shutting_down: AtomicBool,
    /// Notified whenever a socket leaves: shutdown waits for the last.
    left: Notify,
}

#[derive(Default)]
struct Registry {
    users: HashMap<String, User>,
    sockets: usize,
}

/// One user with sockets open.
struct User {
    projects: Projects,
    sockets: HashMap<u64, Outlet>,
}

/// The projects a user belongs to, as the hub knows them.
enum Projects {
    /// Their list is being read. Meanwhile the membership events about them that the hub
    /// routes are remembered (`true`: added, `false`: removed), and win over the list when
    /// it arrives: the list may have been read before them.
    Listing(HashMap<ProjectId, bool>),
    Known(HashSet<ProjectId>),
}

impl Projects {
    fn contains(&self, project: &ProjectId) -> bool {
        match self {
            Self::Listing(changes) => changes.get(project).copied().unwrap_or(false),
            Self::Known(projects) => projects.contains(project),
        }
    }

    fn set(&mut self, project: &ProjectId, member: bool) {
        match self {
            Self::Listing(changes) => {
                changes.insert(project.clone(), member);
            }
            Self::Known(projects) if member => {
                projects.insert(project.clone());
            }
            Self::Known(projects) => {
                projects.remove(project);
            }
        }
    }
}

/// Where the hub puts a socket's events.
struct Outlet {
    /// The event's text frame, shared by every socket it goes to.
    queue: mpsc::Sender<Utf8Bytes>,
    control: Arc<Control>,
}

/// How the hub tells a socket's task to close, and why.
#[derive(Default)]
pub(crate) struct Control {
    reason: OnceLock<Close>,
    notify: Notify,
}

impl Control {
    fn close(&self, reason: Close) {
        if self.reason.set(reason).is_ok() {
            self.notify.notify_one();
        }
    }

    /// Why the hub closed the socket, if it has.
    pub(crate) fn reason(&self) -> Option<Close> {
        self.reason.get().copied()
    }

    /// Resolves with the reason once the hub closes the socket.
    pub(crate) async fn closed(&self) -> Close {
        loop {
            if let Some(reason) = self.reason() {
                return reason;
            }
            self.notify.notified().await;
        }
    }
}

/// A socket's place in the hub, given back when dropped.
pub(crate) struct Registration {
    hub: Arc<Hub>,
    sub: String,
    id: u64,
    pub(crate) events: mpsc::Receiver<Utf8Bytes>,
    pub(crate) control: Arc<Control>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.leave(&self.sub, self.id);
    }
}

impl Hub {
    pub fn new(limits: LiveLimits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            registry: Mutex::new(Registry::default()),
            next_id: AtomicU64::new(0),
            shutting_down: AtomicBool::new(false),
            left: Notify::new(),
        })
    }

    pub fn limits(&self) -> LiveLimits {
        self.limits
    }

    /// Starts routing `store`'s committed events; the task ends with the store's feed.
    pub fn start(self: &Arc<Self>, store: SqliteStore) -> tokio::task::JoinHandle<()> {
        let hub = Arc::clone(self);
        tokio::spawn(async move { hub.run(store).await })
    }

    async fn run(&self, store: SqliteStore) {
        let mut feed = store.feed().subscribe();
        // The newest event routed; 0 before the first.
        let mut last = 0;
        loop {
            match feed.recv().await {
                Ok(batch) => {
                    let fresh = batch.iter().filter(|event| event.seq > last);
                    last = self.route_all(fresh).unwrap_or(last);
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "the live hub fell behind the feed; catching up");
                    last = self.catch_up(&store, last);
                }
                Err(RecvError::Closed) => break,
            }
        }
    }

    /// Routes the events after `last` from the table, up to the newest; returns the newest
    /// routed. If that is impossible (nothing routed yet, or the table cannot be read),
    /// every socket is closed to reload instead.
    fn catch_up(&self, store: &SqliteStore, mut last: i64) -> i64 {
        if last == 0 {
            self.close_every(Close::Resync);
            return last;
        }
        loop {
            match store.events_after(last, RESYNC_BATCH) {
                Ok(events) if events.is_empty() => return last,
                Ok(events) => last = self.route_all(events.iter()).unwrap_or(last),
                Err(err) => {
                    tracing::error!(error = %err, "cannot read the outbox to catch up");
                    self.close_every(Close::Resync);
                    return last;
                }
            }
        }
    }

    /// Routes `events` in order; the last one's number, if any.
    fn route_all<'a>(&self, events: impl Iterator<Item = &'a Committed>) -> Option<i64> {
        let mut registry = self.registry.lock().expect("hub lock");
        let mut last = None;
        for event in events {
            registry.route(event);
            last = Some(event.seq);
        }
        last
    }

    /// Takes a place for a new socket of `sub`, or says why not.
    pub(crate) fn join(self: &Arc<Self>, sub: &str) -> Result<Registration, LiveError> {
        if self.shutting_down.load(Ordering::Relaxed) {
            return Err(LiveError::ShuttingDown);
        }
        let mut registry = self.registry.lock().expect("hub lock");
        if registry.sockets >= self.limits.max_sockets {
            return Err(LiveError::ServerFull);
        }
        let user = registry
            .users
            .entry(sub.to_owned())
            .or_insert_with(|| User {
                projects: Projects::Listing(HashMap::new()),
                sockets: HashMap::new(),
            });
        if user.sockets.len() >= self.limits.max_sockets_per_user {
            return Err(LiveError::UserFull(self.limits.max_sockets_per_user));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (queue, events) = mpsc::channel(self.limits.queue);
        let control = Arc::new(Control::default());
        user.sockets.insert(
            id,
            Outlet {
                queue,
                control: Arc::clone(&control),
            },
        );
        registry.sockets += 1;
        Ok(Registration {
            hub: Arc::clone(self),
            sub: sub.to_owned(),
            id,
            events,
            control,
        })
    }

    /// `sub`'s projects as just listed. Membership events the hub routed meanwhile win:
    /// they may be newer than the list.
    pub(crate) fn know_projects(&self, sub: &str, listed: impl IntoIterator<Item = ProjectId>) {
        let mut registry = self.registry.lock().expect("hub lock");
        let Some(user) = registry.users.get_mut(sub) else {
            return;
        };
        if let Projects::Listing(changes) = &mut user.projects {
            let mut projects: HashSet<ProjectId> = listed.into_iter().collect();
            for (project, member) in changes.drain() {
                if member {
                    projects.insert(project);
                } else {
                    projects.remove(&project);
                }
            }
            user.projects = Projects::Known(projects);
        }
    }

    fn leave(&self, sub: &str, id: u64) {
        let mut registry = self.registry.lock().expect("hub lock");
        let Some(user) = registry.users.get_mut(sub) else {
            return;
        };
        if user.sockets.remove(&id).is_some() {
            if user.sockets.is_empty() {
                registry.users.remove(sub);
            }
            registry.sockets -= 1;
        }
        drop(registry);
        self.left.notify_waiters();
    }

    /// Sockets open now.
    pub fn open_sockets(&self) -> usize {
        self.registry.lock().expect("hub lock").sockets
    }

    /// Refuses new sockets and closes the open ones ([`Close::ShuttingDown`]); resolves
    /// once every socket has gone, or after `grace`, whichever is first.
    pub async fn shut_down(&self, grace: Duration) {
        self.shutting_down.store(true, Ordering::Relaxed);
        self.close_every(Close::ShuttingDown);
        let gone = async {
            loop {
                let left = self.left.notified();
                if self.open_sockets() == 0 {
                    return;
                }
                left.await;
            }
        };
        if tokio::time::timeout(grace, gone).await.is_err() {
            tracing::warn!(
                still_open = self.open_sockets(),
                "live sockets still open after the grace period"
            );
        }
    }

    fn close_every(&self, reason: Close) {
        let registry = self.registry.lock().expect("hub lock");
        for outlet in registry
            .users
            .values()
            .flat_map(|user| user.sockets.values())
        {
            outlet.control.close(reason);
        }
    }
}

impl Registry {
    /// Hands `event` to every socket allowed to see it, then applies what it changes about
    /// membership.
    fn route(&mut self, event: &Committed) {
        let mut dropped = 0;
        let text = Utf8Bytes::from(&*event.json);
        match &event.audience {
            Audience::User(sub) => {
                if let Some(user) = self.users.get_mut(sub) {
                    dropped += user.deliver(&text);
                }
            }
            Audience::Project(project) => {
                for (sub, user) in &mut self.users {
                    let about_them = event.member.as_deref() == Some(sub.as_str());
                    if about_them || user.projects.contains(project) {
                        dropped += user.deliver(&text);
                    }
                }
                self.follow_membership(event, project);
            }
        }
        if dropped > 0 {
            self.sockets -= dropped;
            self.users.retain(|_, user| !user.sockets.is_empty());
        }
    }

    fn follow_membership(&mut self, event: &Committed, project: &ProjectId) {
        match (event.kind, event.member.as_deref()) {
            (EventKind::MemberAdded, Some(sub)) => {
                if let Some(user) = self.users.get_mut(sub) {
                    user.projects.set(project, true);
                }
            }
            (EventKind::MemberRemoved, Some(sub)) => {
                if let Some(user) = self.users.get_mut(sub) {
                    user.projects.set(project, false);
                }
            }
            (EventKind::ProjectDeleted, _) => {
                for user in self.users.values_mut() {
                    user.projects.set(project, false);
                }
            }
            _ => {}
        }
    }
}

impl User {
    /// Queues `text` on each of the user's sockets; a socket whose queue is full (or whose
    /// task has ended) is dropped, and closed as too slow. Returns how many were dropped.
    fn deliver(&mut self, text: &Utf8Bytes) -> usize {
        let before = self.sockets.len();
        self.sockets
            .retain(|_, outlet| match outlet.queue.try_send(text.clone()) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    outlet.control.close(Close::TooSlow);
                    false
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            });
        before - self.sockets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(queue: usize) -> LiveLimits {
        LiveLimits {
            max_sockets: 4,
            max_sockets_per_user: 2,
            queue,
            ping_interval: Duration::from_secs(30),
        }
    }

    fn project(n: u8) -> ProjectId {
        ProjectId::parse(&format!("0190c0de-0000-7000-8000-0000000000{n:02}")).unwrap()
    }

    fn event(seq: i64, audience: Audience, kind: EventKind, member: Option<&str>) -> Committed {
        Committed {
            seq,
            audience,
            kind,
            member: member.map(str::to_owned),
            json: format!("{{\"seq\":{seq}}}").into(),
        }
    }

    fn task_in(seq: i64, project_n: u8) -> Committed {
        event(
            seq,
            Audience::Project(project(project_n)),
            EventKind::TaskCreated,
            None,
        )
    }

    fn received(registration: &mut Registration) -> Vec<String> {
        let mut seen = Vec::new();
        while let Ok(text) = registration.events.try_recv() {
            seen.push(text.as_str().to_owned());
        }
        seen
    }

    fn route(hub: &Hub, events: &[Committed]) {
        hub.route_all(events.iter());
    }

    #[test]
    fn a_user_hears_their_own_tasks_and_their_projects_only() {
        let hub = Hub::new(limits(8));
        let mut alice = hub.join("alice").unwrap();
        hub.know_projects("alice", [project(1)]);
        let mut bob = hub.join("bob").unwrap();
        hub.know_projects("bob", []);
        route(
            &hub,
            &[
                event(
                    1,
                    Audience::User("alice".into()),
                    EventKind::TaskCreated,
                    None,
                ),
                event(
                    2,
                    Audience::User("bob".into()),
                    EventKind::TaskCreated,
                    None,
                ),
                task_in(3, 1),
                task_in(4, 2),
            ],
        );
        assert_eq!(received(&mut alice), [r#"{"seq":1}"#, r#"{"seq":3}"#]);
        assert_eq!(received(&mut bob), [r#"{"seq":2}"#]);
    }

    #[test]
    fn membership_follows_the_events() {
        let hub = Hub::new(limits(8));
        let mut bob = hub.join("bob").unwrap();
        hub.know_projects("bob", []);
        route(
            &hub,
            &[
                task_in(1, 1),
                event(
                    2,
                    Audience::Project(project(1)),
                    EventKind::MemberAdded,
                    Some("bob"),
                ),
                task_in(3, 1),
                event(
                    4,
                    Audience::Project(project(1)),
                    EventKind::MemberRemoved,
                    Some("bob"),
                ),
                task_in(5, 1),
            ],
        );
        assert_eq!(
            received(&mut bob),
            [r#"{"seq":2}"#, r#"{"seq":3}"#, r#"{"seq":4}"#],
            "joins, hears, hears of leaving, then nothing"
        );
    }

    #[test]
    fn a_deleted_project_is_heard_of_then_forgotten() {
        let hub = Hub::new(limits(8));
        let mut alice = hub.join("alice").unwrap();
        hub.know_projects("alice", [project(1)]);
        route(
            &hub,
            &[
                event(
                    1,
                    Audience::Project(project(1)),
                    EventKind::ProjectDeleted,
                    None,
                ),
                task_in(2, 1),
            ],
        );
        assert_eq!(received(&mut alice), [r#"{"seq":1}"#]);
    }

    #[test]
    fn membership_events_during_the_listing_win_over_the_list() {
        let hub = Hub::new(limits(8));
        let mut bob = hub.join("bob").unwrap();
        // Removed from 1 and added to 2 while the list (read before both) was on its way.
        route(
            &hub,
            &[
                event(
                    1,
                    Audience::Project(project(1)),
                    EventKind::MemberRemoved,
                    Some("bob"),
                ),
                event(
                    2,
                    Audience::Project(project(2)),
                    EventKind::MemberAdded,
                    Some("bob"),
                ),
            ],
        );
        hub.know_projects("bob", [project(1)]);
        route(&hub, &[task_in(3, 1), task_in(4, 2)]);
        assert_eq!(
            received(&mut bob),
            [r#"{"seq":1}"#, r#"{"seq":2}"#, r#"{"seq":4}"#]
        );
    }

    #[test]
    fn a_full_queue_closes_its_socket_only() {
        let hub = Hub::new(limits(2));
        let slow = hub.join("alice").unwrap();
        let mut quick = hub.join("alice").unwrap();
        hub.know_projects("alice", []);
        let own = |seq| {
            event(
                seq,
                Audience::User("alice".into()),
                EventKind::TaskCreated,
                None,
            )
        };
        route(&hub, &[own(1), own(2)]);
        assert_eq!(received(&mut quick).len(), 2);
        route(&hub, &[own(3)]);
        assert_eq!(slow.control.reason(), Some(Close::TooSlow));
        assert_eq!(quick.control.reason(), None);
        assert_eq!(received(&mut quick), [r#"{"seq":3}"#]);
        assert_eq!(hub.open_sockets(), 1, "the slow one no longer counts");
    }

    #[test]
    fn caps_per_user_and_in_all() {
        let hub = Hub::new(limits(2));
        let _a1 = hub.join("a").unwrap();
        let a2 = hub.join("a").unwrap();
        assert!(matches!(hub.join("a"), Err(LiveError::UserFull(2))));
        let _b1 = hub.join("b").unwrap();
        let _c1 = hub.join("c").unwrap();
        assert!(matches!(hub.join("d"), Err(LiveError::ServerFull)));
        drop(a2);
        assert!(
            hub.join("d").is_ok(),
            "a place is given back when a socket leaves"
        );
    }

    #[tokio::test]
    async fn shutting_down_closes_every_socket_and_refuses_new_ones() {
        let hub = Hub::new(limits(2));
        let socket = hub.join("a").unwrap();
        let control = Arc::clone(&socket.control);
        let leaving = tokio::spawn(async move {
            let reason = control.closed().await;
            drop(socket);
            reason
        });
        hub.shut_down(Duration::from_secs(5)).await;
        assert_eq!(leaving.await.unwrap(), Close::ShuttingDown);
        assert_eq!(hub.open_sockets(), 0);
        assert!(matches!(hub.join("a"), Err(LiveError::ShuttingDown)));
    }
}
