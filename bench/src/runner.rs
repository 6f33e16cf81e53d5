//! Calling a function route by route, each call's duration (and, through the counting
//! proxy, its DynamoDB requests) filed under its route: what the per-call tables are made of.

use std::time::Duration;

use anyhow::ensure;
use serde_json::Value;

use crate::function::Function;
use crate::proxy::{Proxy, Tally};

/// A list page holds this many tasks, so list routes read a full page.
pub const PAGE: usize = 20;

/// One route's calls: the durations and, when counted, each call's tally.
pub struct Samples {
    pub route: &'static str,
    pub durations: Vec<Duration>,
    pub tallies: Vec<Tally>,
}

/// Calls one route after another, filing each call's duration and tally under its route.
pub struct Runner<'a> {
    function: &'a Function,
    proxy: Option<&'a Proxy>,
    results: Vec<Samples>,
}

impl<'a> Runner<'a> {
    /// A runner of `function`'s calls, each counted by `proxy` if there is one (from now
    /// on: what went through before is dropped).
    pub fn new(function: &'a Function, proxy: Option<&'a Proxy>) -> Self {
        proxy.map(Proxy::take);
        Self {
            function,
            proxy,
            results: Vec::new(),
        }
    }

    pub fn into_results(self) -> Vec<Samples> {
        self.results
    }

    fn take(&self) -> Option<Tally> {
        self.proxy.map(Proxy::take)
    }

    pub async fn call(
        &mut self,
        route: &'static str,
        event: &Value,
        status: u16,
    ) -> anyhow::Result<Value> {
        let (reply, duration) = self.function.invoke(event).await?;
        ensure!(
            reply.status == status,
            "{route}: expected {status}, got {} {}",
            reply.status,
            reply.body
        );
        let tally = self.take();
        if self
            .results
            .last()
            .is_none_or(|samples| samples.route != route)
        {
            self.results.push(Samples {
                route,
                durations: Vec::new(),
                tallies: Vec::new(),
            });
        }
        let samples = self.results.last_mut().expect("just pushed");
        samples.durations.push(duration);
        samples.tallies.extend(tally);
        Ok(reply.body)
    }
}
