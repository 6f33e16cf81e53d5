//! With tracing on (Lambda sets `AWS_XRAY_DAEMON_ADDRESS` and hands out a sampled trace),
//! every DynamoDB call is sent to the daemon as a subsegment of the invocation.

use std::net::UdpSocket;
use std::time::Duration;

use serde_json::{Value, json};
use taskapi_testkit::apigw::{Api, Caller, Request};
use taskapi_testkit::emulator::Emulator;
use taskapi_testkit::runtime_api::TRACE_ID;

use crate::function::Function;

#[tokio::test]
async fn dynamodb_calls_are_subsegments_of_the_invocation() {
    let daemon = UdpSocket::bind("127.0.0.1:0").unwrap();
    daemon
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let address = daemon.local_addr().unwrap().to_string();
    let env = [(
        "AWS_XRAY_DAEMON_ADDRESS",
        format!("tcp:{address} udp:{address}"),
    )];
    let function = Function::start_with(Emulator::dynalite(), &env).await;
    let alice = Caller::new(None);

    let created = function
        .call(
            Request::new("POST", "/tasks")
                .by(&alice)
                .json(json!({ "title": "traced" }))
                .event(Api::Rest),
        )
        .await;
    assert_eq!(created.status, 201);
    let path = format!("/tasks/{}", created.body["task_id"].as_str().unwrap());
    let missing = function
        .call(
            Request::new("GET", "/tasks/0190a5e4-0000-7000-8000-000000000000")
                .by(&alice)
                .event(Api::Rest),
        )
        .await;
    assert_eq!(missing.status, 404);
    let fetched = function
        .call(Request::new("GET", &path).by(&alice).event(Api::Rest))
        .await;
    assert_eq!(fetched.status, 200);

    let subsegments: Vec<Value> = (0..3).map(|_| receive(&daemon)).collect();
    let operations: Vec<&str> = subsegments
        .iter()
        .map(|s| s["aws"]["operation"].as_str().unwrap())
        .collect();
    assert_eq!(operations, ["PutItem", "GetItem", "GetItem"]);
    let root = TRACE_ID
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("Root=")
        .unwrap();
    for subsegment in &subsegments {
        assert_eq!(subsegment["name"], "DynamoDB");
        assert_eq!(subsegment["type"], "subsegment");
        assert_eq!(subsegment["namespace"], "aws");
        assert_eq!(subsegment["trace_id"], root);
        assert_eq!(subsegment["parent_id"], "53995c3f42cd8ad8");
        assert_eq!(subsegment["aws"]["table_name"], function.store.table());
        assert_eq!(subsegment["aws"]["region"], "us-east-1");
        assert_eq!(subsegment["http"]["response"]["status"], 200);
        assert!(subsegment.get("fault").is_none() && subsegment.get("error").is_none());
        let (start, end) = (
            subsegment["start_time"].as_f64().unwrap(),
            subsegment["end_time"].as_f64().unwrap(),
        );
        assert!(start > 1.7e9 && end >= start, "{start} .. {end}");
    }
}

/// One datagram: the daemon header line, then the subsegment document.
fn receive(daemon: &UdpSocket) -> Value {
    let mut buffer = [0; 65_536];
    let length = daemon.recv(&mut buffer).expect("a subsegment within 5 s");
    let text = std::str::from_utf8(&buffer[..length]).unwrap();
    let (header, document) = text.split_once('\n').expect("header line");
    assert_eq!(
        serde_json::from_str::<Value>(header).unwrap(),
        json!({"format": "json", "version": 1})
    );
    serde_json::from_str(document).unwrap()
}
