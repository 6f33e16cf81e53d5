//! Repeated timings summed up as a median and its spread, in milliseconds: a median
//! resists the odd slow sample a shared machine throws in, the spread shows how odd.

use std::time::Duration;

use serde::Serialize;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Spread {
    pub samples: usize,
    pub median_ms: f64,
    pub min_ms: f64,
    pub p90_ms: f64,
    pub max_ms: f64,
    /// The mean of each sample rounded up to a whole millisecond, as Lambda bills.
    pub billed_ms: f64,
}

impl Spread {
    pub fn of(samples: &[Duration]) -> Self {
        assert!(!samples.is_empty(), "a spread of no samples");
        let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        ms.sort_by(f64::total_cmp);
        let at = |q: f64| rank(&ms, q);
        Self {
            samples: ms.len(),
            median_ms: at(0.5),
            min_ms: ms[0],
            p90_ms: at(0.9),
            max_ms: ms[ms.len() - 1],
            billed_ms: ms.iter().map(|v| v.ceil()).sum::<f64>() / ms.len() as f64,
        }
    }
}

/// The nearest-rank `q` quantile (0 < q ≤ 1) of `sorted`, which is sorted and not empty.
pub fn rank(sorted: &[f64], q: f64) -> f64 {
    sorted[((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_median_and_billing() {
        let spread = Spread::of(&[3, 1, 2, 10].map(|us| Duration::from_micros(us * 100)));
        assert_eq!(spread.median_ms, 0.2);
        assert_eq!(spread.min_ms, 0.1);
        assert_eq!(spread.max_ms, 1.0);
        assert_eq!(spread.p90_ms, 1.0);
        assert_eq!(spread.billed_ms, 1.0);
    }
}
