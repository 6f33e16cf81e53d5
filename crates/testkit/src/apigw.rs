//! API Gateway events built from the hand-written fixtures in `tests/fixtures/apigw`: a REST
//! API (v1) event through a Cognito user-pool authorizer on stage `prod`, an HTTP API
//! (v2) event through a JWT authorizer, and a Function URL event (payload 2.0, `AuthType:
//! NONE`: no authorizer, the token only in the `Authorization` header). Each call swaps in method, path, query, body and the
//! caller's claims, and leaves every other field as API Gateway sends it. [`Reply`] reads
//! the proxy response a function answers with.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

const REST_V1: &str = include_str!("../../../tests/fixtures/apigw/rest_v1.json");
const HTTP_V2: &str = include_str!("../../../tests/fixtures/apigw/http_v2.json");
const FUNCTION_URL: &str = include_str!("../../../tests/fixtures/apigw/function_url.json");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Rest,
    Http,
    /// A Lambda Function URL. A caller set with [`Request::by`] is ignored: nothing in front
    /// of the function reports claims; send a token in the headers instead.
    FunctionUrl,
}

/// A signed-in user as the authorizer reports them.
#[derive(Debug, Clone)]
pub struct Caller {
    pub sub: String,
    /// `cognito:groups` exactly as API Gateway stringifies it, if the user has groups.
    pub groups: Option<&'static str>,
}

impl Caller {
    pub fn new(groups: Option<&'static str>) -> Self {
        Self {
            sub: uuid::Uuid::new_v4().to_string(),
            groups,
        }
    }

    fn claims(&self, template: &Value) -> Value {
        let mut claims = template.as_object().cloned().unwrap_or_default();
        claims.insert("sub".into(), json!(self.sub));
        claims.insert("cognito:username".into(), json!(self.sub));
        claims.insert("email".into(), json!(format!("{}@example.com", self.sub)));
        if let Some(groups) = self.groups {
            claims.insert("cognito:groups".into(), json!(groups));
        }
        Value::Object(claims)
    }
}

/// One request, before it is shaped as either API's event.
pub struct Request<'a> {
    pub method: &'a str,
    /// The path as the client wrote it after the stage, e.g. `/tasks/abc`.
    pub path: &'a str,
    pub query: &'a [(&'a str, &'a str)],
    pub body: Option<Value>,
    pub caller: Option<&'a Caller>,
    pub headers: &'a [(&'a str, &'a str)],
}

impl<'a> Request<'a> {
    pub fn new(method: &'a str, path: &'a str) -> Self {
        Self {
            method,
            path,
            query: &[],
            body: None,
            caller: None,
            headers: &[],
        }
    }

    pub fn by(mut self, caller: &'a Caller) -> Self {
        self.caller = Some(caller);
        self
    }

    pub fn query(mut self, query: &'a [(&'a str, &'a str)]) -> Self {
        self.query = query;
        self
    }

    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    pub fn header(mut self, headers: &'a [(&'a str, &'a str)]) -> Self {
        self.headers = headers;
        self
    }

    pub fn event(&self, api: Api) -> Value {
        match api {
            Api::Rest => self.rest_event(),
            Api::Http => self.http_event("$default", self.path.to_owned()),
            Api::FunctionUrl => self.function_url_event(),
        }
    }

    fn function_url_event(&self) -> Value {
        let mut event: Value = serde_json::from_str(FUNCTION_URL).unwrap();
        let raw_query: Vec<String> = self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        event["rawPath"] = json!(self.path);
        event["rawQueryString"] = json!(raw_query.join("&"));
        event["queryStringParameters"] = self.query_map();
        event["body"] = self.body_text();
        for (name, value) in self.headers {
            event["headers"][name.to_ascii_lowercase()] = json!(value);
        }
        let context = &mut event["requestContext"];
        context["http"]["method"] = json!(self.method);
        context["http"]["path"] = json!(self.path);
        context["requestId"] = json!(uuid::Uuid::new_v4().to_string());
        event
    }

    /// An HTTP API event on a named stage, whose `rawPath` starts with the stage.
    pub fn http_event_on_stage(&self, stage: &str) -> Value {
        self.http_event(stage, format!("/{stage}{}", self.path))
    }

    /// The API Gateway resource template of the path, e.g. `/tasks/{taskId}`.
    fn route(&self) -> (String, Value) {
        let segments: Vec<&str> = self.path.trim_start_matches('/').split('/').collect();
        match segments.as_slice() {
            ["tasks", id] => ("/tasks/{taskId}".into(), json!({ "taskId": id })),
            _ => (self.path.to_owned(), Value::Null),
        }
    }

    fn query_map(&self) -> Value {
        if self.query.is_empty() {
            // API Gateway sends null, not {}, when there is no query string.
            return Value::Null;
        }
        Value::Object(
            self.query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), json!(v)))
                .collect(),
        )
    }

    fn body_text(&self) -> Value {
        self.body
            .as_ref()
            .map_or(Value::Null, |body| json!(body.to_string()))
    }

    fn rest_event(&self) -> Value {
        let mut event: Value = serde_json::from_str(REST_V1).unwrap();
        let (resource, path_parameters) = self.route();
        event["resource"] = json!(resource);
        event["path"] = json!(self.path);
        event["httpMethod"] = json!(self.method);
        event["pathParameters"] = path_parameters;
        event["queryStringParameters"] = self.query_map();
        event["multiValueQueryStringParameters"] = match self.query_map() {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k, json!([v])))
                    .collect::<Map<_, _>>(),
            ),
            other => other,
        };
        event["body"] = self.body_text();
        for (name, value) in self.headers {
            event["headers"][*name] = json!(value);
            event["multiValueHeaders"][*name] = json!([value]);
        }
        let context = &mut event["requestContext"];
        context["httpMethod"] = json!(self.method);
        context["resourcePath"] = json!(resource);
        context["path"] = json!(format!("/prod{}", self.path));
        context["requestId"] = json!(uuid::Uuid::new_v4().to_string());
        match self.caller {
            Some(caller) => {
                let claims = caller.claims(&context["authorizer"]["claims"]);
                context["authorizer"]["claims"] = claims;
            }
            None => context["authorizer"] = Value::Null,
        }
        event
    }

    fn http_event(&self, stage: &str, raw_path: String) -> Value {
        let mut event: Value = serde_json::from_str(HTTP_V2).unwrap();
        let (resource, path_parameters) = self.route();
        let route_key = format!("{} {resource}", self.method);
        let raw_query: Vec<String> = self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        event["routeKey"] = json!(route_key);
        event["rawPath"] = json!(raw_path);
        event["rawQueryString"] = json!(raw_query.join("&"));
        event["queryStringParameters"] = self.query_map();
        event["pathParameters"] = path_parameters;
        event["body"] = self.body_text();
        for (name, value) in self.headers {
            event["headers"][name.to_ascii_lowercase()] = json!(value);
        }
        let context = &mut event["requestContext"];
        context["http"]["method"] = json!(self.method);
        context["http"]["path"] = json!(raw_path);
        context["routeKey"] = json!(route_key);
        context["stage"] = json!(stage);
        context["requestId"] = json!(uuid::Uuid::new_v4().to_string());
        match self.caller {
            Some(caller) => {
                let claims = caller.claims(&context["authorizer"]["jwt"]["claims"]);
                context["authorizer"]["jwt"]["claims"] = claims;
            }
            None => {
                context.as_object_mut().unwrap().remove("authorizer");
            }
        }
        event
    }
}

/// What API Gateway would make of the function's answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// Lower-cased names; from `headers`, or `multiValueHeaders` (REST responses).
    headers: HashMap<String, String>,
    pub body: Value,
}

impl Reply {
    pub fn from_proxy_response(response: &Value) -> Self {
        let mut headers = HashMap::new();
        if let Some(multi) = response["multiValueHeaders"].as_object() {
            for (name, values) in multi {
                if let Some(first) = values[0].as_str() {
                    headers.insert(name.to_ascii_lowercase(), first.to_owned());
                }
            }
        }
        if let Some(single) = response["headers"].as_object() {
            for (name, value) in single {
                if let Some(value) = value.as_str() {
                    headers.insert(name.to_ascii_lowercase(), value.to_owned());
                }
            }
        }
        Self {
            status: u16::try_from(response["statusCode"].as_u64().expect("statusCode")).unwrap(),
            headers,
            body: match response["body"].as_str() {
                None | Some("") => Value::Null,
                Some(text) => {
                    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
                }
            },
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}
