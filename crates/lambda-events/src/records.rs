//! A DynamoDB Streams batch as Lambda hands it over (`{"Records":[...]}`), each record read
//! on its own so that one unreadable record does not cost the batch: its images become
//! items with [`dynamodb_json::attributes_of`], ready for [`change_of`](taskapi_store_dynamodb::change_of).

use serde::Deserialize;
use serde_json::{Map, Value, json};
use taskapi_domain::{Change, Timestamp};
use taskapi_store_dynamodb::{ItemChange, StreamRecord, change_of, dynamodb_json};
use time::OffsetDateTime;

use crate::error::NotAStreamEvent;

#[derive(Deserialize)]
struct Batch {
    #[serde(rename = "Records")]
    records: Vec<Value>,
}

/// A record of the batch: its sequence number (how a failure is reported back) and what
/// it says, or why it cannot be read.
pub struct Record {
    pub sequence_number: Option<String>,
    pub read: Result<StreamRecord, String>,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "eventID")]
    event_id: String,
    #[serde(rename = "eventName")]
    event_name: String,
    dynamodb: RawData,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawData {
    /// Unix seconds, with a fraction on newer streams.
    approximate_creation_date_time: Option<f64>,
    new_image: Option<Map<String, Value>>,
    old_image: Option<Map<String, Value>>,
}

/// Hands the change of each record of a stream batch that the API shows to `deliver`, in
/// stream order, and answers Lambda's partial batch response (`ReportBatchItemFailures`):
/// the first record `deliver` fails is the batch's item failure, so Lambda retries from it
/// and the records after it keep their order. A record that can never be read is logged
/// and skipped rather than retried forever.
pub async fn each_change<E, F>(event: Value, mut deliver: F) -> Result<Value, NotAStreamEvent>
where
    E: std::fmt::Display,
    F: AsyncFnMut(&Change) -> Result<(), E>,
{
    for record in records_of(event)? {
        let Some(sequence_number) = record.sequence_number else {
            tracing::error!("stream record without a sequence number skipped");
            continue;
        };
        let record = match record.read {
            Ok(record) => record,
            Err(reason) => {
                tracing::error!(%sequence_number, reason, "unreadable stream record skipped");
                continue;
            }
        };
        let change = match change_of(&record) {
            Ok(Some(change)) => change,
            Ok(None) => continue,
            Err(err) => {
                tracing::error!(%sequence_number, error = %err, "stream record not read as a change; skipped");
                continue;
            }
        };
        if let Err(err) = deliver(&change).await {
            tracing::warn!(%sequence_number, error = %err, "record handed back for a retry");
            return Ok(json!({
                "batchItemFailures": [{ "itemIdentifier": sequence_number }]
            }));
        }
    }
    Ok(json!({ "batchItemFailures": [] }))
}

/// The records of a batch, in stream order.
fn records_of(event: Value) -> Result<Vec<Record>, NotAStreamEvent> {
    let batch: Batch =
        serde_json::from_value(event).map_err(|err| NotAStreamEvent(err.to_string()))?;
    Ok(batch.records.into_iter().map(record_of).collect())
}

fn record_of(raw: Value) -> Record {
    let sequence_number = raw["dynamodb"]["SequenceNumber"]
        .as_str()
        .map(str::to_owned);
    Record {
        sequence_number,
        read: read(raw),
    }
}

fn read(raw: Value) -> Result<StreamRecord, String> {
    let raw: Raw = serde_json::from_value(raw).map_err(|err| err.to_string())?;
    let change = ItemChange::parse(&raw.event_name)
        .ok_or_else(|| format!("unknown eventName {:?}", raw.event_name))?;
    let image = |image: Option<Map<String, Value>>| {
        image
            .map(|attributes| {
                dynamodb_json::attributes_of(attributes).map_err(|err| err.to_string())
            })
            .transpose()
    };
    Ok(StreamRecord {
        at: raw
            .dynamodb
            .approximate_creation_date_time
            .and_then(|seconds| {
                let nanos = (seconds * 1e9) as i128;
                OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
            })
            .map_or_else(Timestamp::now, Timestamp::from_datetime),
        event_id: raw.event_id,
        change,
        old: image(raw.dynamodb.old_image)?,
        new: image(raw.dynamodb.new_image)?,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_batch_keeps_unreadable_records_apart() {
        let records = records_of(json!({ "Records": [
            {
                "eventID": "e1",
                "eventName": "REMOVE",
                "dynamodb": {
                    "ApproximateCreationDateTime": 1_767_225_600.5,
                    "Keys": { "PK": { "S": "USER#alice" }, "SK": { "S": "TASK#t1" } },
                    "OldImage": { "PK": { "S": "USER#alice" }, "SK": { "S": "TASK#t1" } },
                    "SequenceNumber": "100",
                    "StreamViewType": "NEW_AND_OLD_IMAGES"
                }
            },
            { "eventID": "e2", "eventName": "TRUNCATE", "dynamodb": { "SequenceNumber": "200" } },
            { "eventID": "e3", "eventName": "INSERT", "dynamodb": { "NewImage": { "PK": { "Q": 1 } } } }
        ]}))
        .unwrap();
        assert_eq!(records.len(), 3);
        let first = records[0].read.as_ref().unwrap();
        assert_eq!(first.event_id, "e1");
        assert_eq!(first.change, ItemChange::Remove);
        assert_eq!(first.at.as_str(), "2026-01-01T00:00:00.500000Z");
        assert!(first.new.is_none() && first.old.is_some());
        assert_eq!(records[0].sequence_number.as_deref(), Some("100"));
        assert!(records[1].read.is_err());
        assert_eq!(records[1].sequence_number.as_deref(), Some("200"));
        assert!(records[2].read.is_err());
        assert!(records_of(json!({ "requestContext": {} })).is_err());
    }
}
