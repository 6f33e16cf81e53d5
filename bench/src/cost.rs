//! Cost per million requests of each route through each front door (a REST API, an HTTP
//! API, a bare Function URL; CloudFront in front of the URL as its own line), on an arm64
//! function with 128 MB: API Gateway, Lambda requests, Lambda compute from the measured
//! billed duration, and DynamoDB on-demand from the measured capacity units.

use std::fmt::Write as _;

use serde::Serialize;

use crate::dynamodb;
use crate::table::Table;

/// us-east-1 list prices in US dollars, all in one place. Source: the pricing table of
/// `perf-cost-anchors.md` (collected 2026-11-24), which cites: API Gateway, the AWS
/// whitepaper "Best practices for API Gateway private APIs integration", cost
/// optimization (first tiers); Lambda, aws.amazon.com/lambda/pricing and the AWS News Blog
/// on Graviton2 Lambda (2021-09-29, arm64 duration 20% below x86); DynamoDB on-demand,
/// aws.amazon.com/dynamodb/pricing/on-demand (after the 50% cut effective 2024-11-01).
/// A Function URL has no price of its own (the invocation is billed as any other);
/// CloudFront, aws.amazon.com/cloudfront/pricing: HTTPS requests in the United States,
/// $0.0100 per 10,000, after the always-free 10 million a month.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Prices {
    pub rest_api_per_million: f64,
    pub http_api_per_million: f64,
    pub cloudfront_https_per_million: f64,
    pub lambda_requests_per_million: f64,
    pub lambda_arm64_per_gb_second: f64,
    pub dynamodb_read_units_per_million: f64,
    pub dynamodb_write_units_per_million: f64,
}

pub const PRICES: Prices = Prices {
    rest_api_per_million: 3.50,
    http_api_per_million: 1.00,
    cloudfront_https_per_million: 1.00,
    lambda_requests_per_million: 0.20,
    lambda_arm64_per_gb_second: 0.000_013_333_4,
    dynamodb_read_units_per_million: 0.125,
    dynamodb_write_units_per_million: 0.625,
};

/// The function's memory, as `template.yaml` deploys it.
pub const MEMORY_GB: f64 = 128.0 / 1024.0;

#[derive(Debug, Serialize)]
pub struct RouteCost {
    pub route: &'static str,
    pub billed_ms: f64,
    pub lambda_compute: f64,
    pub dynamodb: f64,
    pub rest_api_total: f64,
    pub http_api_total: f64,
    /// Billed ms behind a Function URL, where the function verifies the token itself.
    pub function_url_billed_ms: f64,
    /// A bare Function URL: Lambda and DynamoDB only.
    pub function_url_total: f64,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub prices: Prices,
    pub memory_gb: f64,
    /// Dollars per million calls of each route.
    pub routes: Vec<RouteCost>,
}

pub fn per_million(measured: &dynamodb::Report) -> Report {
    let p = PRICES;
    let routes = measured
        .routes
        .iter()
        .map(|route| {
            let compute = |billed_ms: f64| {
                billed_ms / 1000.0 * MEMORY_GB * p.lambda_arm64_per_gb_second * 1e6
            };
            let billed_ms = route.duration.billed_ms;
            let lambda_compute = compute(billed_ms);
            let dynamodb = route.per_call.read_units_per_call * p.dynamodb_read_units_per_million
                + route.per_call.write_units_per_call * p.dynamodb_write_units_per_million;
            let common = p.lambda_requests_per_million + lambda_compute + dynamodb;
            let function_url_billed_ms = route.function_url_duration.billed_ms;
            RouteCost {
                route: route.route,
                billed_ms,
                lambda_compute,
                dynamodb,
                rest_api_total: p.rest_api_per_million + common,
                http_api_total: p.http_api_per_million + common,
                function_url_billed_ms,
                function_url_total: p.lambda_requests_per_million
                    + compute(function_url_billed_ms)
                    + dynamodb,
            }
        })
        .collect();
    Report {
        prices: p,
        memory_gb: MEMORY_GB,
        routes,
    }
}

impl crate::Markdown for Report {
    fn markdown(&self) -> String {
        let p = self.prices;
        let mut table = Table::of(&self.routes)
            .text("route", |r| format!("`{}`", r.route))
            .fixed("billed ms", 2, |r| r.billed_ms)
            .number("Lambda compute", |r| format!("${:.4}", r.lambda_compute))
            .number("DynamoDB", |r| format!("${:.4}", r.dynamodb))
            .number("total, REST API", |r| {
                format!("**${:.2}**", r.rest_api_total)
            })
            .number("total, HTTP API", |r| {
                format!("**${:.2}**", r.http_api_total)
            })
            .fixed("billed ms, verifying", 2, |r| r.function_url_billed_ms)
            .number("total, Function URL", |r| {
                format!("**${:.2}**", r.function_url_total)
            })
            .number("+ CloudFront", |r| {
                format!(
                    "${:.2}",
                    r.function_url_total + p.cloudfront_https_per_million
                )
            })
            .render();
        let _ = writeln!(
            table,
            "\nUS dollars per million calls, us-east-1 list prices, no free tier: API Gateway REST \
             ${:.2} or HTTP ${:.2}, a Function URL nothing, CloudFront ${:.2} (HTTPS, United \
             States), Lambda requests ${:.2}, arm64 at {:.0} MB ${} per GB-s, \
             DynamoDB on-demand ${} per million read units and ${} per million write units. \
             Billed ms is the mean of each warm invocation rounded up to 1 ms, measured on this \
             machine's x86 cores, not on Graviton.",
            p.rest_api_per_million,
            p.http_api_per_million,
            p.cloudfront_https_per_million,
            p.lambda_requests_per_million,
            self.memory_gb * 1024.0,
            p.lambda_arm64_per_gb_second,
            p.dynamodb_read_units_per_million,
            p.dynamodb_write_units_per_million
        );
        table
    }
}
