//! Webhook delivery, shared by `taskapi serve` (its local delivery worker) and the AWS
//! delivery functions: nothing in here stores anything or serves HTTP.
//!
//! Reading order: [`secret`] (signing secrets, `whsec_...`, and the cipher that seals them
//! for the store), [`signing`] (the Standard Webhooks headers), [`address`] (which
//! addresses a delivery may reach: the SSRF rule), [`url`] (an endpoint URL checked at
//! creation) and [`attempt`] (one HTTP attempt, connecting only to checked addresses).

pub mod address;
pub mod attempt;
pub mod secret;
pub mod signing;
pub mod url;

pub use address::AddressPolicy;
pub use attempt::{Delivery, Sender};
pub use secret::{SealError, SecretCipher, SigningSecret};
pub use signing::{SignedHeaders, sign};
pub use url::{UrlError, check_url};

/// A uniform random number in `[0, 1)`: the jitter of a retry's delay
/// ([`RetrySchedule::delay_after`](taskapi_domain::RetrySchedule::delay_after)).
pub fn jitter() -> f64 {
    use aes_gcm::aead::OsRng;
    use aes_gcm::aead::rand_core::RngCore;
    // 53 random bits: every value an f64 in [0, 1) can take at this spacing.
    (OsRng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}
