//! `GET /live` end to end: a real WebSocket client against the real server (the listener
//! with its upgrades, the hub on the SQLite store's feed).

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use taskapi_testkit::{Signer, TRUSTED_KID, now, sign};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{TestApp, User, spawn_app, spawn_app_with};
use crate::team::{Team, create_project};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long an event may take to arrive before a test fails.
const ARRIVES_WITHIN: Duration = Duration::from_secs(5);

fn live_url(app: &TestApp, token: &str) -> String {
    format!("{}/live?token={token}", app.base.replacen("http", "ws", 1))
}

async fn connect(app: &TestApp, user: &User) -> Socket {
    let (socket, response) = tokio_tungstenite::connect_async(live_url(app, &user.token))
        .await
        .expect("the socket opens");
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    socket
}

/// The refusal of a handshake: its status and JSON body.
async fn refused(app: &TestApp, token: &str) -> (StatusCode, Value) {
    match tokio_tungstenite::connect_async(live_url(app, token)).await {
        Err(WsError::Http(response)) => {
            let body = response.body().clone().unwrap_or_default();
            (
                response.status(),
                serde_json::from_slice(&body).unwrap_or(Value::Null),
            )
        }
        Err(other) => panic!("the handshake failed otherwise: {other}"),
        Ok(_) => panic!("the socket opened"),
    }
}

/// The next event on `socket` (pings and pongs are skipped).
async fn next_event(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(ARRIVES_WITHIN, socket.next())
            .await
            .expect("an event arrives in time")
            .expect("the socket is open")
            .expect("a well-formed frame");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("expected an event, got {other:?}"),
        }
    }
}

/// The next event on `socket` but the `member.added` of a team made just before it
/// connected (events committed just before a socket opens may still reach it).
async fn next_event_after_setup(socket: &mut Socket) -> Value {
    loop {
        let event = next_event(socket).await;
        if event["type"] != "member.added" {
            return event;
        }
    }
}

/// Lets the events of a setup's writes reach the hub before sockets connect, so that a
/// test's "nothing arrives" is about its own writes.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// Asserts that no event arrives on `socket` within a moment.
async fn stays_quiet(socket: &mut Socket) {
    let quiet = tokio::time::timeout(Duration::from_millis(300), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                other => return other,
            }
        }
    })
    .await;
    assert!(quiet.is_err(), "nothing arrives, got {quiet:?}");
}

/// The close code and reason `socket` ends with.
async fn close_of(socket: &mut Socket, within: Duration) -> (u16, String) {
    tokio::time::timeout(within, async {
        while let Some(message) = socket.next().await {
            if let Ok(Message::Close(Some(frame))) = message {
                return (u16::from(frame.code), frame.reason.to_string());
            }
        }
        panic!("the socket ended without a close frame");
    })
    .await
    .expect("the socket is closed in time")
}

#[tokio::test]
async fn no_valid_token_no_socket() {
    let app = spawn_app().await;
    let (status, body) = refused(&app, "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, json!({ "message": "Unauthorized" }));
    let mut claims = app.pool.claims("mallory", &[]);
    let foreign = sign(&claims, Signer::Foreign, TRUSTED_KID);
    assert_eq!(refused(&app, &foreign).await.0, StatusCode::UNAUTHORIZED);
    claims["exp"] = json!(now() - 60);
    let expired = sign(&claims, Signer::Trusted, TRUSTED_KID);
    assert_eq!(refused(&app, &expired).await.0, StatusCode::UNAUTHORIZED);

    // A valid token on a plain GET (in the header) is told to upgrade.
    let user = app.user();
    let plain = app.get(&user, "/live").await;
    assert_eq!(plain.status(), StatusCode::UPGRADE_REQUIRED);
    let body: Value = plain.json().await.unwrap();
    assert_eq!(body["code"], "websocket_required");
}

#[tokio::test]
async fn each_user_hears_their_own_tasks_and_their_projects_only() {
    let app = spawn_app().await;
    let team = Team::new(&app).await;
    settle().await;
    let mut owner = connect(&app, &team.owner).await;
    let mut editor = connect(&app, &team.editor).await;
    let mut stranger = connect(&app, &team.stranger).await;

    let created = app.create_ok(&team.owner, "own errand").await;
    let event = next_event_after_setup(&mut owner).await;
    assert_eq!(event["type"], "task.created");
    assert_eq!(event["project_id"], Value::Null);
    assert_eq!(event["data"], created);
    stays_quiet(&mut editor).await;

    let response = app
        .post(
            &team.editor,
            &team.at("tasks"),
            json!({ "title": "shared" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let task: Value = response.json().await.unwrap();
    for socket in [&mut owner, &mut editor] {
        let event = next_event_after_setup(socket).await;
        assert_eq!(event["type"], "task.created");
        assert_eq!(event["data"]["task_id"], task["task_id"]);
        assert_eq!(
            format!("/projects/{}", event["project_id"].as_str().unwrap()),
            team.path
        );
    }
    stays_quiet(&mut stranger).await;
}

#[tokio::test]
async fn a_removed_member_stops_hearing_at_once() {
    let app = spawn_app().await;
    let team = Team::new(&app).await;
    settle().await;
    let mut viewer = connect(&app, &team.viewer).await;
    let mut owner = connect(&app, &team.owner).await;
    let removal = app
        .delete(
            &team.owner,
            &team.at(&format!("members/{}", team.viewer.sub)),
        )
        .await;
    assert_eq!(removal.status(), StatusCode::NO_CONTENT);
    let heard = next_event_after_setup(&mut viewer).await;
    assert_eq!(heard["type"], "member.removed");
    assert_eq!(heard["data"]["user_id"], team.viewer.sub.as_str());
    assert_eq!(
        next_event_after_setup(&mut owner).await["type"],
        "member.removed"
    );

    let response = app
        .post(&team.owner, &team.at("tasks"), json!({ "title": "after" }))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(next_event(&mut owner).await["type"], "task.created");
    stays_quiet(&mut viewer).await;
}

#[tokio::test]
async fn a_new_project_reaches_its_creators_other_sockets() {
    let app = spawn_app().await;
    let user = app.user();
    let mut other_tab = connect(&app, &user).await;
    let project = create_project(&app, &user, "Fresh").await;
    let added = next_event(&mut other_tab).await;
    assert_eq!(added["type"], "member.added");
    assert_eq!(added["project_id"], project["project_id"]);
    let path = format!(
        "/projects/{}/tasks",
        project["project_id"].as_str().unwrap()
    );
    let response = app.post(&user, &path, json!({ "title": "first" })).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(next_event(&mut other_tab).await["type"], "task.created");
}

#[tokio::test]
async fn a_socket_closes_when_its_token_expires() {
    let app = spawn_app().await;
    let mut claims = app.pool.claims("short-lived", &[]);
    claims["exp"] = json!(now() + 2);
    let token = sign(&claims, Signer::Trusted, TRUSTED_KID);
    let (mut socket, _) = tokio_tungstenite::connect_async(live_url(&app, &token))
        .await
        .unwrap();
    let (code, reason) = close_of(&mut socket, Duration::from_secs(6)).await;
    assert_eq!(code, 4001);
    assert!(reason.contains("token expired"), "{reason}");
}

#[tokio::test]
async fn client_messages_get_an_error_frame_and_big_ones_close_the_socket() {
    let app = spawn_app().await;
    let user = app.user();
    let mut socket = connect(&app, &user).await;
    socket
        .send(Message::text("subscribe everything"))
        .await
        .unwrap();
    let answer = next_event(&mut socket).await;
    assert_eq!(answer["type"], "error");
    // Still open and routing.
    app.create_ok(&user, "still here").await;
    assert_eq!(next_event(&mut socket).await["type"], "task.created");

    socket
        .send(Message::text("x".repeat(17 * 1024)))
        .await
        .unwrap();
    // Closed with 1009; the server does not read the rest of the message, so the client may
    // meet the connection's reset before the close frame.
    let ended = tokio::time::timeout(ARRIVES_WITHIN, async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(Some(frame)))) => return Ok(u16::from(frame.code)),
                Some(Ok(_)) => {}
                Some(Err(WsError::Io(err))) => return Err(err.kind()),
                other => panic!("the socket ended otherwise: {other:?}"),
            }
        }
    })
    .await
    .expect("the socket is closed in time");
    assert!(
        matches!(ended, Ok(1009) | Err(std::io::ErrorKind::ConnectionReset)),
        "{ended:?}"
    );
}

#[tokio::test]
async fn caps_per_user_and_in_all_refuse_with_a_clear_status() {
    let app = spawn_app_with(&[
        "--max-live-sockets",
        "2",
        "--max-live-sockets-per-user",
        "1",
    ])
    .await;
    let (alice, bob, carol) = (app.user(), app.user(), app.user());
    let first = connect(&app, &alice).await;
    let (status, body) = refused(&app, &alice.token).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["code"], "too_many_sockets");
    let _bob = connect(&app, &bob).await;
    let (status, body) = refused(&app, &carol.token).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["code"], "live_full");

    drop(first);
    // The place is given back once the server sees the socket go.
    let deadline = tokio::time::Instant::now() + ARRIVES_WITHIN;
    loop {
        match tokio_tungstenite::connect_async(live_url(&app, &carol.token)).await {
            Ok(_) => break,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(err) => panic!("the place was not given back: {err}"),
        }
    }
}

#[tokio::test]
async fn a_socket_that_falls_behind_is_closed_and_writes_go_on() {
    let app = spawn_app_with(&["--live-queue", "4"]).await;
    let user = app.user();
    // A client that reads nothing, with a tiny receive buffer: its events pile up.
    let addr = app.base.trim_start_matches("http://").parse().unwrap();
    let tcp = TcpSocket::new_v4().unwrap();
    tcp.set_recv_buffer_size(4096).unwrap();
    let stream = tcp.connect(addr).await.unwrap();
    let (mut slow, _) =
        tokio_tungstenite::client_async(live_url(&app, &user.token), MaybeTlsStream::Plain(stream))
            .await
            .unwrap();
    // About 6 MB of events: more than the kernel buffers of both ends hold.
    let description = "d".repeat(4000);
    let (app, user) = (&app, &user);
    let writes = futures::stream::iter(0..1500).map(|n| {
        let body = json!({ "title": format!("task {n}"), "description": description });
        async move { app.create(user, body).await.status() }
    });
    let statuses: Vec<StatusCode> = writes.buffer_unordered(8).collect().await;
    assert!(
        statuses.iter().all(|status| *status == StatusCode::CREATED),
        "writes never wait for the socket"
    );
    let (code, reason) = close_of(&mut slow, Duration::from_secs(30)).await;
    assert_eq!(code, 4008);
    assert_eq!(reason, "too slow: reconnect and reload");
}

#[tokio::test]
async fn shutting_down_closes_sockets_with_going_away() {
    let mut app = spawn_app().await;
    let user = app.user();
    let mut socket = connect(&app, &user).await;
    app.stop();
    let (code, _) = close_of(&mut socket, Duration::from_secs(10)).await;
    assert_eq!(code, 1001);
}

#[tokio::test]
async fn a_client_that_answers_no_ping_is_closed() {
    let app = spawn_app_with(&["--live-ping-interval", "0.2"]).await;
    let user = app.user();
    let mut socket = connect(&app, &user).await;
    // Reading nothing, the client answers no ping (its library pongs only while it reads).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (code, reason) = close_of(&mut socket, ARRIVES_WITHIN).await;
    assert_eq!(code, 1008);
    assert!(reason.contains("no pong"), "{reason}");
}

#[tokio::test]
async fn a_client_that_answers_pings_stays_open() {
    let app = spawn_app_with(&["--live-ping-interval", "0.2"]).await;
    let user = app.user();
    let mut socket = connect(&app, &user).await;
    // Reading, it answers each ping: still open after several intervals.
    stays_quiet(&mut socket).await;
    stays_quiet(&mut socket).await;
    stays_quiet(&mut socket).await;
    app.create_ok(&user, "after many pings").await;
    assert_eq!(next_event(&mut socket).await["type"], "task.created");
}
