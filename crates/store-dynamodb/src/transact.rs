//! `TransactWriteItems` for the project items: one request that writes a membership with
//! its mirror (and the project's counters), and, when DynamoDB refuses it, which of its
//! items refused.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem, Update};
use taskapi_domain::StoreError;

use crate::DynamoStore;
use crate::error::from_sdk;
use crate::item::{Item, s};

/// Why a transaction did not commit.
pub(crate) enum Refused {
    /// These items' conditions failed (by their index in the transaction).
    Conditions(Vec<usize>),
    Failed(StoreError),
}

impl Refused {
    /// Whether item `index`'s condition failed.
    pub(crate) fn at(&self, index: usize) -> bool {
        matches!(self, Self::Conditions(failed) if failed.contains(&index))
    }

    /// The error for a refusal no item's condition explains.
    pub(crate) fn otherwise(self) -> StoreError {
        match self {
            Self::Failed(err) => err,
            Self::Conditions(failed) => {
                StoreError::internal(format!("unexpected failed conditions at {failed:?}"))
            }
        }
    }
}

/// One write of a transaction, with its condition and the placeholders it uses.
pub(crate) struct Write {
    kind: Kind,
    condition: Option<String>,
    names: Vec<(String, String)>,
    values: Item,
}

enum Kind {
    Put(Item),
    Delete(Item),
    Update { key: Item, expression: String },
    Check(Item),
}

impl Write {
    pub(crate) fn put(item: Item) -> Self {
        Self::new(Kind::Put(item))
    }

    pub(crate) fn delete(key: Item) -> Self {
        Self::new(Kind::Delete(key))
    }

    /// Writes nothing: only its condition counts.
    pub(crate) fn check(key: Item) -> Self {
        Self::new(Kind::Check(key))
    }

    pub(crate) fn update(key: Item, expression: impl Into<String>) -> Self {
        Self::new(Kind::Update {
            key,
            expression: expression.into(),
        })
    }

    fn new(kind: Kind) -> Self {
        Self {
            kind,
            condition: None,
            names: Vec::new(),
            values: Item::new(),
        }
    }

    pub(crate) fn when(mut self, condition: impl Into<String>) -> Self {
        self.condition = Some(condition.into());
        self
    }

    /// Names `#attribute` for the expressions.
    pub(crate) fn name(mut self, attribute: &str) -> Self {
        self.names
            .push((format!("#{attribute}"), attribute.to_owned()));
        self
    }

    pub(crate) fn value(mut self, placeholder: &str, value: impl Into<String>) -> Self {
        self.values.insert(placeholder.to_owned(), s(value));
        self
    }

    pub(crate) fn number(mut self, placeholder: &str, value: i64) -> Self {
        self.values.insert(
            placeholder.to_owned(),
            aws_sdk_dynamodb::types::AttributeValue::N(value.to_string()),
        );
        self
    }

    fn build(self, table: &str) -> Result<TransactWriteItem, StoreError> {
        let names = (!self.names.is_empty()).then(|| self.names.into_iter().collect());
        let values = (!self.values.is_empty()).then_some(self.values);
        let item = match self.kind {
            Kind::Put(item) => TransactWriteItem::builder().put(
                Put::builder()
                    .table_name(table)
                    .set_item(Some(item))
                    .set_condition_expression(self.condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .build()
                    .map_err(StoreError::internal)?,
            ),
            Kind::Delete(key) => TransactWriteItem::builder().delete(
                Delete::builder()
                    .table_name(table)
                    .set_key(Some(key))
                    .set_condition_expression(self.condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .build()
                    .map_err(StoreError::internal)?,
            ),
            Kind::Update { key, expression } => TransactWriteItem::builder().update(
                Update::builder()
                    .table_name(table)
                    .set_key(Some(key))
                    .update_expression(expression)
                    .set_condition_expression(self.condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .build()
                    .map_err(StoreError::internal)?,
            ),
            Kind::Check(key) => TransactWriteItem::builder().condition_check(
                ConditionCheck::builder()
                    .table_name(table)
                    .set_key(Some(key))
                    .set_condition_expression(self.condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .build()
                    .map_err(StoreError::internal)?,
            ),
        };
        Ok(item.build())
    }
}

impl DynamoStore {
    /// Runs `writes` as one transaction. A collision with a concurrent transaction on the
    /// same items is a `Conflict`: the caller's request may simply be repeated.
    pub(crate) async fn transact(&self, writes: Vec<Write>) -> Result<(), Refused> {
        let items = writes
            .into_iter()
            .map(|write| write.build(self.table()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(Refused::Failed)?;
        let result = self
            .client()
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        let Err(err) = result else {
            return Ok(());
        };
        if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
            err.as_service_error()
        {
            let reasons: Vec<&str> = cancelled
                .cancellation_reasons()
                .iter()
                .map(|reason| reason.code().unwrap_or("None"))
                .collect();
            if reasons.contains(&"TransactionConflict") {
                return Err(Refused::Failed(StoreError::Conflict));
            }
            let failed: Vec<usize> = reasons
                .iter()
                .enumerate()
                .filter(|(_, code)| **code == "ConditionalCheckFailed")
                .map(|(index, _)| index)
                .collect();
            if !failed.is_empty() {
                return Err(Refused::Conditions(failed));
            }
        }
        Err(Refused::Failed(from_sdk(err)))
    }
}
