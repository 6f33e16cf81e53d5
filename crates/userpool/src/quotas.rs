//! Cognito's request-rate quotas: every action belongs to a category, and each user pool
//! gets each category's rate (requests per second, Cognito's defaults unless configured).
//! Past it the answer is `PoolError::TooManyRequests`, before the action does any work.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::str::FromStr;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::PoolError;

macro_rules! categories {
    ($($name:ident = $rps:literal: [$($action:literal),* $(,)?]),* $(,)?) => {
        /// A Cognito quota category.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Category { $($name),* }

        impl Category {
            pub const ALL: &[Category] = &[$(Category::$name),*];

            /// Cognito's default rate for the category, in requests per second.
            pub fn default_rate(self) -> u32 {
                match self { $(Category::$name => $rps),* }
            }

            pub fn name(self) -> &'static str {
                match self { $(Category::$name => stringify!($name)),* }
            }

            /// The category of an action; actions Cognito does not list count as
            /// `UserPoolRead`, the smallest of the read quotas.
            pub fn of(action: &str) -> Category {
                match action {
                    $($($action)|* => Category::$name,)*
                    _ => Category::UserPoolRead,
                }
            }
        }
    };
}

categories! {
    UserAuthentication = 120: [
        "InitiateAuth", "RespondToAuthChallenge", "AdminInitiateAuth",
        "AdminRespondToAuthChallenge", "GlobalSignOut", "AdminUserGlobalSignOut", "RevokeToken", "RevokeUserSession",
        "GetTokensFromRefreshToken",
    ],
    UserCreation = 50: [
        "SignUp", "ConfirmSignUp", "ResendConfirmationCode", "AdminCreateUser",
        "AdminConfirmSignUp",
    ],
    UserAccountRecovery = 30: [
        "ForgotPassword", "ConfirmForgotPassword", "ChangePassword", "AdminResetUserPassword",
        "AdminSetUserPassword",
    ],
    UserRead = 120: [
        "GetUser", "AdminGetUser", "AdminListGroupsForUser", "GetUserAuthFactors",
        "AdminGetUserAuthFactors", "ListDevices", "GetDevice", "AdminListDevices",
        "AdminGetDevice", "AdminListUserAuthEvents", "ListWebAuthnCredentials", "ListUserSessions",
    ],
    UserUpdate = 25: [
        "AdminAddUserToGroup", "AdminRemoveUserFromGroup", "AdminDeleteUser",
        "AdminDeleteUserAttributes", "AdminDisableUser", "AdminEnableUser",
        "AdminUpdateUserAttributes", "AdminSetUserMFAPreference", "AdminSetUserSettings",
        "AdminLinkProviderForUser", "AdminDisableProviderForUser", "AdminForgetDevice",
        "AdminUpdateDeviceStatus", "AdminUpdateAuthEventFeedback", "DeleteUser",
        "DeleteUserAttributes", "UpdateUserAttributes", "VerifyUserAttribute",
        "GetUserAttributeVerificationCode", "SetUserMFAPreference", "SetUserSettings",
        "AssociateSoftwareToken", "VerifySoftwareToken", "ConfirmDevice", "ForgetDevice",
        "UpdateDeviceStatus", "UpdateAuthEventFeedback", "StartWebAuthnRegistration",
        "CompleteWebAuthnRegistration", "DeleteWebAuthnCredential",
    ],
    UserResourceRead = 50: ["GetGroup", "ListGroups"],
    UserResourceUpdate = 25: ["CreateGroup", "UpdateGroup", "DeleteGroup"],
    UserList = 30: ["ListUsers", "ListUsersInGroup"],
    UserPoolRead = 15: [
        "DescribeUserPool", "ListUserPools", "GetUserPoolMfaConfig", "ListTagsForResource",
        "GetSigningCertificate", "GetCSVHeader",
    ],
    UserPoolUpdate = 15: [
        "CreateUserPool", "UpdateUserPool", "DeleteUserPool", "SetUserPoolMfaConfig",
        "AddCustomAttributes", "TagResource", "UntagResource",
    ],
    UserPoolResourceRead = 20: [
        "DescribeUserPoolClient", "ListUserPoolClients", "DescribeUserPoolDomain",
        "DescribeIdentityProvider", "ListIdentityProviders", "GetIdentityProviderByIdentifier",
        "DescribeResourceServer",
        "ListResourceServers", "GetUICustomization",
    ],
    UserPoolResourceUpdate = 15: [
        "CreateUserPoolClient", "UpdateUserPoolClient", "DeleteUserPoolClient",
        "AddUserPoolClientSecret", "CreateUserPoolDomain", "UpdateUserPoolDomain",
        "DeleteUserPoolDomain", "CreateIdentityProvider", "UpdateIdentityProvider",
        "DeleteIdentityProvider", "CreateResourceServer", "UpdateResourceServer",
        "DeleteResourceServer", "SetUICustomization",
    ],
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Category {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .iter()
            .copied()
            .find(|c| c.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<_> = Category::ALL.iter().map(|c| c.name()).collect();
                format!("unknown quota category {s}; one of {}", names.join(", "))
            })
    }
}

/// One category's rate, as `--cognito-quota UserCreation=500` gives it; `0` lifts the
/// quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaRate {
    pub category: Category,
    pub per_second: u32,
}

impl FromStr for QuotaRate {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, rate) = s
            .split_once('=')
            .ok_or_else(|| format!("expected <Category>=<requests per second>, got {s}"))?;
        Ok(Self {
            category: name.trim().parse()?,
            per_second: rate
                .trim()
                .parse()
                .map_err(|_| format!("{rate} is not a whole number of requests per second"))?,
        })
    }
}

/// The rate limiters, one per category, keyed by user pool; and in front of them, for the
/// actions anyone may call without credentials, each client address's share.
pub struct Quotas {
    limiters: HashMap<Category, DefaultKeyedRateLimiter<String>>,
    shares: HashMap<Category, DefaultKeyedRateLimiter<(String, IpAddr)>>,
}

/// The part of a pool's rate one client address may use of an action anyone can call: a
/// stranger flooding from one address leaves the rest to everybody else, and what it sends
/// beyond its share is refused before it counts against the pool.
const ADDRESS_SHARE: u32 = 2;

impl Quotas {
    /// Cognito's defaults, with `overrides` applied.
    pub fn new(overrides: &[QuotaRate]) -> Self {
        let mut rates: HashMap<Category, u32> = Category::ALL
            .iter()
            .map(|c| (*c, c.default_rate()))
            .collect();
        for rate in overrides {
            rates.insert(rate.category, rate.per_second);
        }
        let limiters = rates
            .iter()
            .filter_map(|(category, rps)| {
                NonZeroU32::new(*rps)
                    .map(|rps| (*category, RateLimiter::keyed(Quota::per_second(rps))))
            })
            .collect();
        let shares = rates
            .iter()
            .filter_map(|(category, rps)| {
                NonZeroU32::new(*rps).map(|rps| {
                    let share =
                        NonZeroU32::new(rps.get() / ADDRESS_SHARE).unwrap_or(NonZeroU32::MIN);
                    (*category, RateLimiter::keyed(Quota::per_second(share)))
                })
            })
            .collect();
        Self { limiters, shares }
    }

    /// Takes one request of `category` for `pool` from `caller`'s share of it.
    pub fn check_share(
        &self,
        category: Category,
        pool: &str,
        caller: IpAddr,
    ) -> Result<(), PoolError> {
        let Some(limiter) = self.shares.get(&category) else {
            return Ok(());
        };
        if limiter.len() > 4096 {
            limiter.retain_recent();
        }
        limiter
            .check_key(&(pool.to_owned(), caller))
            .map_err(|_| PoolError::TooManyRequests("Rate exceeded".into()))
    }

    /// Takes one request of `category` from `pool`'s allowance.
    pub fn check(&self, category: Category, pool: &str) -> Result<(), PoolError> {
        let Some(limiter) = self.limiters.get(&category) else {
            return Ok(());
        };
        // The keys are known pool ids plus one bucket for unknown ones, so the state stays
        // small; dropping idle entries now and then keeps it so as pools come and go.
        if limiter.len() > 1024 {
            limiter.retain_recent();
        }
        limiter
            .check_key(&pool.to_owned())
            .map_err(|_| PoolError::TooManyRequests("Rate exceeded".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_fall_in_cognitos_categories() {
        assert_eq!(Category::of("SignUp"), Category::UserCreation);
        assert_eq!(Category::of("InitiateAuth"), Category::UserAuthentication);
        assert_eq!(
            Category::of("ForgotPassword"),
            Category::UserAccountRecovery
        );
        assert_eq!(Category::of("ListUsers"), Category::UserList);
        assert_eq!(Category::UserCreation.default_rate(), 50);
        assert_eq!(
            "usercreation=7".parse::<QuotaRate>().unwrap(),
            QuotaRate {
                category: Category::UserCreation,
                per_second: 7
            }
        );
        assert!("Nope=1".parse::<QuotaRate>().is_err());
        assert!("UserCreation".parse::<QuotaRate>().is_err());
    }

    #[test]
    fn a_pool_past_its_rate_is_refused_and_others_are_not() {
        let quotas = Quotas::new(&[
            QuotaRate {
                category: Category::UserCreation,
                per_second: 3,
            },
            QuotaRate {
                category: Category::UserList,
                per_second: 0,
            },
        ]);
        for _ in 0..3 {
            quotas.check(Category::UserCreation, "a").unwrap();
        }
        let refused = quotas.check(Category::UserCreation, "a").unwrap_err();
        assert!(matches!(refused, PoolError::TooManyRequests(_)));
        quotas.check(Category::UserCreation, "b").unwrap();
        quotas.check(Category::UserAuthentication, "a").unwrap();
        for _ in 0..1000 {
            quotas.check(Category::UserList, "a").unwrap();
        }
    }
}
