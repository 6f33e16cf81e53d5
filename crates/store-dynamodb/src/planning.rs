//! The planning reads on DynamoDB, each from a sparse index so a page reads only tasks it
//! may return: the Upcoming view (`GSI2`: `GSI2PK = UPCOMING#<sub>`, only open tasks with
//! a due date, one Query per page) and a partition's tasks by due date (`GSI3`:
//! `GSI3PK = DUE#<PK>`, every task with a due date, then the undated ones from the table in
//! creation order). The keys are written with the task ([`item::due_index_keys`]) and
//! kept true by every update ([`DynamoStore::reconcile_due_index`]).

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use taskapi_domain::{ListQuery, Page, PageKey, StoreError, Task, TaskFilter, keys};

use crate::DynamoStore;
use crate::error::from_sdk;
use crate::item::{self, Item, as_key_text, attr, s};

/// Adds `filter`'s conditions (status, assignee, due before) and `extra` ones to a query of
/// tasks. As the seed filters: DynamoDB applies `Limit` before the filter, so a page may
/// come back short or empty while `next` still points further.
pub(crate) fn filtered(
    mut request: QueryFluentBuilder,
    filter: &TaskFilter,
    extra: Vec<&str>,
) -> QueryFluentBuilder {
    let mut filters = extra;
    if let Some(status) = filter.status {
        filters.push("#s = :status");
        request = request
            .expression_attribute_names("#s", attr::STATUS)
            .expression_attribute_values(":status", s(status.as_str()));
    }
    if let Some(assignee) = &filter.assignee {
        filters.push("#a = :assignee");
        request = request
            .expression_attribute_names("#a", attr::ASSIGNEE)
            .expression_attribute_values(":assignee", s(assignee));
    }
    if let Some(before) = &filter.due_before {
        // A task without `due_at` fails the comparison, as it should.
        filters.push("#due < :due_before");
        request = request.expression_attribute_values(":due_before", s(before.as_str()));
    }
    if filters.iter().any(|condition| condition.contains("#due")) {
        request = request.expression_attribute_names("#due", attr::DUE_AT);
    }
    if filters.is_empty() {
        request
    } else {
        request.filter_expression(filters.join(" AND "))
    }
}

/// A sparse due-date index: its name and key attributes.
#[derive(Clone, Copy)]
struct DueIndex {
    name: &'static str,
    pk: &'static str,
    sk: &'static str,
}

const UPCOMING: DueIndex = DueIndex {
    name: keys::GSI2,
    pk: attr::GSI2PK,
    sk: attr::GSI2SK,
};
const DATED: DueIndex = DueIndex {
    name: keys::GSI3,
    pk: attr::GSI3PK,
    sk: attr::GSI3SK,
};

impl DueIndex {
    /// The query of index partition `partition`, soonest first.
    fn query(self, store: &DynamoStore, partition: String) -> QueryFluentBuilder {
        store
            .client()
            .query()
            .index_name(self.name)
            .key_condition_expression("#ipk = :ipk")
            .expression_attribute_names("#ipk", self.pk)
            .expression_attribute_values(":ipk", s(partition))
    }

    /// The `ExclusiveStartKey` after `key` in index partition `partition`.
    fn start_key(self, key: &PageKey, partition: &str) -> Option<Item> {
        let due_sk = key.due_sk.as_ref()?;
        Some(HashMap::from([
            (attr::PK.to_owned(), s(&key.pk)),
            (attr::SK.to_owned(), s(&key.sk)),
            (self.pk.to_owned(), s(partition)),
            (self.sk.to_owned(), s(due_sk)),
        ]))
    }

    /// The page key of a `LastEvaluatedKey` of this index: the table key and `due_sk`.
    fn position(self, key: Option<&Item>) -> Result<Option<PageKey>, StoreError> {
        let Some(key) = key else {
            return Ok(None);
        };
        let required = |name: &str| {
            as_key_text(key, name).ok_or_else(|| {
                StoreError::internal(format!("LastEvaluatedKey without a string {name}: {key:?}"))
            })
        };
        let mut position = PageKey::table(required(attr::PK)?, required(attr::SK)?);
        position.due_sk = Some(required(self.sk)?);
        Ok(Some(position))
    }
}

impl DynamoStore {
    /// A page of `user`'s Upcoming view: one Query of their GSI2 partition. A page may come
    /// back short (see below) while `next` points further.
    pub(crate) async fn upcoming_page(
        &self,
        user: &str,
        query: &ListQuery,
    ) -> Result<Page, StoreError> {
        let partition = keys::upcoming_gsi2pk(user);
        let start = query
            .start_after
            .as_ref()
            .and_then(|key| UPCOMING.start_key(key, &partition));
        // The seed's update handler may mark a task done without knowing of GSI2; such a
        // task is left out here (a filter over the view's own items only).
        let request = UPCOMING
            .query(self, partition)
            .filter_expression("#s <> :done")
            .expression_attribute_names("#s", attr::STATUS)
            .expression_attribute_values(":done", s(taskapi_domain::Status::Done.as_str()));
        self.page_at(request, query.limit.get(), start, |key| {
            UPCOMING.position(key)
        })
        .await
    }

    /// A page of partition `pk`'s tasks by due date: the dated ones from GSI3 (a page key
    /// with a `due_sk` is a place among them), then, unless `due_before` leaves them out,
    /// the undated ones in creation order (a table key). The page where the first run ends
    /// is filled from the second, so at most two Queries make one page.
    pub(crate) async fn due_order_page(
        &self,
        pk: String,
        filter: &TaskFilter,
        query: &ListQuery,
    ) -> Result<Page, StoreError> {
        let limit = query.limit.get();
        let after = query.start_after.as_ref();
        let in_dated = after.is_none_or(|key| key.due_sk.is_some());
        let mut page = Page {
            tasks: Vec::new(),
            next: None,
        };
        if in_dated {
            // DynamoDB refuses a start key outside the key condition (a made-up token).
            let past_bound = |key: &PageKey| {
                let before = filter.due_before.as_ref().map(|due| due.as_str());
                key.due_sk
                    .as_deref()
                    .zip(before)
                    .is_some_and(|(at, before)| at >= before)
            };
            if after.is_some_and(past_bound) {
                return Ok(page);
            }
            let partition = keys::due_gsi3pk(&pk);
            let start = after.and_then(|key| DATED.start_key(key, &partition));
            let mut request = DATED.query(self, partition);
            if let Some(before) = &filter.due_before {
                // Key order is due order; `<date>#<id>` is below `<before>` exactly when
                // the date is.
                request = request
                    .key_condition_expression("#ipk = :ipk AND #isk < :before")
                    .expression_attribute_names("#isk", DATED.sk)
                    .expression_attribute_values(":before", s(before.as_str()));
            }
            let unbounded = TaskFilter {
                due_before: None,
                ..filter.clone()
            };
            let request = filtered(request, &unbounded, Vec::new());
            page = self
                .page_at(request, limit, start, |key| DATED.position(key))
                .await?;
            if page.next.is_some() || filter.due_before.is_some() {
                return Ok(page);
            }
        }
        let room = limit - page.tasks.len();
        if room == 0 {
            // The dated run ended with a full page: the next one starts the undated run.
            page.next = Some(PageKey::table(pk, keys::TASK_PREFIX.to_owned()));
            return Ok(page);
        }
        let start = after
            .filter(|key| key.due_sk.is_none() && key.sk != keys::TASK_PREFIX)
            .map(crate::page_key::to_start_key);
        let request = filtered(
            self.created_order(&pk),
            filter,
            vec!["attribute_not_exists(#due)"],
        );
        let undated = self
            .page_at(request, room, start, crate::page_key::from_last_evaluated)
            .await?;
        page.tasks.extend(undated.tasks);
        page.next = undated.next;
        Ok(page)
    }

    /// Makes `stored` (a task item just written by an update, as `ALL_NEW` returned it)
    /// carry exactly the due-index keys `task` needs in partition `pk`. The update set what
    /// its patch alone decides; whether a task enters the Upcoming view, and under whom,
    /// also depends on fields the patch may not name (its status, due date, assignee), so
    /// this second write happens only when the item is not yet right. It applies only to
    /// the version just written: if another write came first, that write reconciles.
    pub(crate) async fn reconcile_due_index(
        &self,
        pk: &str,
        task: &Task,
        stored: &Item,
    ) -> Result<(), StoreError> {
        let wanted: HashMap<&str, String> = item::due_index_keys(pk, task).into_iter().collect();
        let is_right = attr::DUE_INDEX_KEYS
            .iter()
            .all(|name| as_key_text(stored, name).as_ref() == wanted.get(name));
        if is_right {
            return Ok(());
        }
        let mut names = HashMap::from([("#v".to_owned(), attr::UPDATED_AT.to_owned())]);
        let mut values = HashMap::from([(
            ":v".to_owned(),
            stored
                .get(attr::UPDATED_AT)
                .cloned()
                .unwrap_or_else(|| AttributeValue::S(task.updated_at.as_str().to_owned())),
        )]);
        let (mut sets, mut removes) = (Vec::new(), Vec::new());
        for name in attr::DUE_INDEX_KEYS {
            names.insert(format!("#{name}"), name.to_owned());
            match wanted.get(name) {
                Some(value) => {
                    values.insert(format!(":{name}"), s(value));
                    sets.push(format!("#{name} = :{name}"));
                }
                None => removes.push(format!("#{name}")),
            }
        }
        let mut expression = String::new();
        if !sets.is_empty() {
            expression = format!("SET {}", sets.join(", "));
        }
        if !removes.is_empty() {
            expression = format!("{expression} REMOVE {}", removes.join(", "));
        }
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(item::key_in(pk.to_owned(), &task.task_id)))
            .update_expression(expression.trim_start())
            .condition_expression("#v = :v")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err)
                if matches!(
                    err.as_service_error(),
                    Some(UpdateItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(())
            }
            Err(err) => Err(from_sdk(err)),
        }
    }
}
