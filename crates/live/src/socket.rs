//! One open socket: sends its queued events, pings, and closes with a reason when the hub
//! says so, when its token expires, or when the client stops answering.

use std::time::{Duration, Instant, SystemTime};

use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use tokio::time::{MissedTickBehavior, interval_at};

use crate::Close;
use crate::hub::Registration;

/// What a client that sends a message gets back: the socket only carries events.
const CLIENT_MESSAGE: &str =
    r#"{"type":"error","message":"this socket only sends events; messages are ignored"}"#;

/// How long the server waits to send one frame before it treats the client as gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `socket` until it or the server closes it; its place in the hub is given back
/// when this returns.
pub(crate) async fn serve(
    mut socket: WebSocket,
    mut registration: Registration,
    expires_at: Option<SystemTime>,
    ping_interval: Duration,
) {
    let expiry = expires_at.map_or(Duration::MAX, |at| {
        at.duration_since(SystemTime::now()).unwrap_or_default()
    });
    let expired = tokio::time::sleep(expiry.min(Duration::from_secs(u32::MAX.into())));
    tokio::pin!(expired);
    let start = tokio::time::Instant::now() + ping_interval;
    let mut pings = interval_at(start, ping_interval);
    pings.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    let control = std::sync::Arc::clone(&registration.control);
    let reason = loop {
        tokio::select! {
            // A close from the hub goes first: the events still queued are not sent.
            biased;
            reason = control.closed() => break Some(reason),
            () = &mut expired => break Some(Close::TokenExpired),
            event = registration.events.recv() => {
                // The hub let go of the socket only after saying why.
                let Some(text) = event else {
                    break Some(control.reason().unwrap_or(Close::TooSlow));
                };
                if !send(&mut socket, Message::Text(text)).await {
                    break None;
                }
            }
            message = socket.recv() => match message {
                Some(Ok(Message::Text(_) | Message::Binary(_))) => {
                    last_heard = Instant::now();
                    let answer = Message::Text(Utf8Bytes::from_static(CLIENT_MESSAGE));
                    if !send(&mut socket, answer).await {
                        break None;
                    }
                }
                Some(Ok(Message::Pong(_) | Message::Ping(_))) => last_heard = Instant::now(),
                Some(Ok(Message::Close(_))) | None => break None,
                Some(Err(err)) => break too_big(err).then_some(Close::TooBig),
            },
            _ = pings.tick() => {
                if last_heard.elapsed() > ping_interval * 2 {
                    break Some(Close::NoPong);
                }
                if !send(&mut socket, Message::Ping(Default::default())).await {
                    break None;
                }
            }
        }
    };
    if let Some(reason) = reason {
        tracing::debug!(
            code = reason.code(),
            reason = reason.reason(),
            "closing a live socket"
        );
        send(&mut socket, Message::Close(Some(reason.frame()))).await;
    }
}

/// Sends one frame within [`SEND_TIMEOUT`]; false if the client is gone or too slow.
async fn send(socket: &mut WebSocket, message: Message) -> bool {
    matches!(
        tokio::time::timeout(SEND_TIMEOUT, socket.send(message)).await,
        Ok(Ok(()))
    )
}

/// Whether the client sent a message or frame over the cap (the socket's other errors
/// are a broken connection or protocol, where no close frame can help).
fn too_big(err: axum::Error) -> bool {
    use tokio_tungstenite::tungstenite::Error;
    err.into_inner()
        .downcast::<Error>()
        .is_ok_and(|inner| matches!(*inner, Error::Capacity(_)))
}
