//! Why the server closes a socket: each reason is a close code and a reason text a client
//! can act on (the web app reconnects and reloads its lists on every one of them).

use axum::extract::ws::{CloseFrame, Utf8Bytes, close_code};

/// A reason the server ends a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    /// The server is shutting down (SIGTERM): reconnect later.
    ShuttingDown,
    /// The ID token the socket was opened with has expired.
    TokenExpired,
    /// The socket's queue filled up: events were dropped, so the client's lists may be stale.
    TooSlow,
    /// The server missed events (its own feed fell behind): every client reloads.
    Resync,
    /// The client sent a message over the frame cap.
    TooBig,
    /// The client answered no ping for two intervals.
    NoPong,
}

impl Close {
    pub fn code(self) -> u16 {
        match self {
            Self::ShuttingDown => close_code::AWAY,
            Self::TokenExpired => 4001,
            Self::TooSlow => 4008,
            Self::Resync => 4009,
            Self::TooBig => close_code::SIZE,
            Self::NoPong => close_code::POLICY,
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            Self::ShuttingDown => "server shutting down: reconnect later",
            Self::TokenExpired => "token expired: reconnect with a fresh token",
            Self::TooSlow => "too slow: reconnect and reload",
            Self::Resync => "events missed: reconnect and reload",
            Self::TooBig => "messages are limited to 16 KiB",
            Self::NoPong => "no pong: the connection is dead",
        }
    }

    pub(crate) fn frame(self) -> CloseFrame {
        CloseFrame {
            code: self.code(),
            reason: Utf8Bytes::from_static(self.reason()),
        }
    }
}
