//! `LastEvaluatedKey` ⇄ [`PageKey`] for a user's list (the table's own key). The key is
//! passed through whole, so paging resumes exactly where DynamoDB stopped, including at its
//! 1 MB page limit. The admin view keeps its own position ([`crate::status_index`]).

use std::collections::HashMap;

use taskapi_domain::{PageKey, StoreError};

use crate::item::{Item, as_key_text, attr, s};

/// The `ExclusiveStartKey` for a page that starts after `key`.
pub(crate) fn to_start_key(key: &PageKey) -> Item {
    HashMap::from([
        (attr::PK.to_owned(), s(&key.pk)),
        (attr::SK.to_owned(), s(&key.sk)),
    ])
}

/// The page key of a `LastEvaluatedKey`; `None` when DynamoDB sent none (the last page).
pub(crate) fn from_last_evaluated(key: Option<&Item>) -> Result<Option<PageKey>, StoreError> {
    let Some(key) = key else {
        return Ok(None);
    };
    let required = |name: &str| {
        as_key_text(key, name).ok_or_else(|| {
            StoreError::internal(format!("LastEvaluatedKey without a string {name}: {key:?}"))
        })
    };
    Ok(Some(PageKey::table(
        required(attr::PK)?,
        required(attr::SK)?,
    )))
}
