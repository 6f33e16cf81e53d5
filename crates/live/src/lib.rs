//! Live updates on `taskapi serve`: `GET /live` upgrades to a WebSocket that receives the
//! events (`{"id","type","at","project_id","data"}`) of the caller's own tasks and of every
//! project they belong to, as the SQLite store commits them.
//!
//! Reading order: [`Hub`] (who hears what, and the bounded queue of each socket), then the
//! route (`route.rs`: authentication and caps before the upgrade), then the socket
//! (`socket.rs`: pings, token expiry, closing). [`Close`] lists every way a socket ends.

mod close;
mod error;
mod hub;
mod route;
mod socket;
mod token;

pub use close::Close;
pub use error::LiveError;
pub use hub::{Hub, LiveLimits};
pub use route::router;
