//! "DynamoDB JSON", the format of DynamoDB's export to S3 and of `ImportTable`: one item per
//! line as `{"Item":{"<name>":{"<type>":<value>},...}}`, binary values in base64. Names are
//! written in sorted order (in maps too), so the same item always gives the same line.

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use crate::item::Item;
use crate::transfer::{InvalidItem, invalid};

/// The line of `item`, without its newline.
pub fn to_line(item: &Item) -> String {
    let line = Value::Object(Map::from_iter([("Item".to_owned(), map(item))]));
    line.to_string()
}

fn map(attributes: &HashMap<String, AttributeValue>) -> Value {
    let mut names: Vec<&String> = attributes.keys().collect();
    names.sort();
    Value::Object(
        names
            .into_iter()
            .map(|name| (name.clone(), typed(&attributes[name])))
            .collect(),
    )
}

fn typed(value: &AttributeValue) -> Value {
    let strings = |values: &[String]| Value::from(values.to_vec());
    let (tag, inner) = match value {
        AttributeValue::S(text) => ("S", Value::from(text.as_str())),
        AttributeValue::N(number) => ("N", Value::from(number.as_str())),
        AttributeValue::B(blob) => ("B", Value::from(STANDARD.encode(blob.as_ref()))),
        AttributeValue::Bool(flag) => ("BOOL", Value::from(*flag)),
        AttributeValue::Null(_) => ("NULL", Value::from(true)),
        AttributeValue::Ss(texts) => ("SS", strings(texts)),
        AttributeValue::Ns(numbers) => ("NS", strings(numbers)),
        AttributeValue::Bs(blobs) => (
            "BS",
            blobs
                .iter()
                .map(|blob| Value::from(STANDARD.encode(blob.as_ref())))
                .collect(),
        ),
        AttributeValue::L(values) => ("L", values.iter().map(typed).collect()),
        AttributeValue::M(attributes) => ("M", map(attributes)),
        // The SDK's catch-all for types newer than it: none exist in DynamoDB JSON.
        _ => ("NULL", Value::from(true)),
    };
    Value::Object(Map::from_iter([(tag.to_owned(), inner)]))
}

/// Reads one line (without its newline) as an item. Anything but `{"Item":{...}}` with
/// well-formed typed values is refused, with the reason.
pub fn from_line(line: &str) -> Result<Item, InvalidItem> {
    let value: Value =
        serde_json::from_str(line).map_err(|err| invalid(format!("not JSON: {err}")))?;
    let Value::Object(mut top) = value else {
        return Err(invalid("a line must be a JSON object {\"Item\":{...}}"));
    };
    match (top.remove("Item"), top.is_empty()) {
        (Some(Value::Object(attributes)), true) => attributes_of(attributes),
        _ => Err(invalid("a line must be exactly {\"Item\":{...}}")),
    }
}

/// Reads a map of typed values (`{"<name>":{"<type>":<value>},...}`) as an item: the
/// shape of a stream record's `Keys`, `NewImage` and `OldImage` too.
pub fn attributes_of(attributes: Map<String, Value>) -> Result<Item, InvalidItem> {
    attributes
        .into_iter()
        .map(|(name, value)| {
            let parsed =
                untyped(value).map_err(|err| invalid(format!("attribute {name}: {err}")))?;
            Ok((name, parsed))
        })
        .collect()
}

fn untyped(value: Value) -> Result<AttributeValue, InvalidItem> {
    let Value::Object(object) = value else {
        return Err(invalid("a value must be an object such as {\"S\":\"...\"}"));
    };
    let mut entries = object.into_iter();
    let (Some((tag, inner)), None) = (entries.next(), entries.next()) else {
        return Err(invalid(
            "a value must have exactly one type, such as {\"S\":\"...\"}",
        ));
    };
    let wrong = || invalid(format!("a {tag} value of the wrong form"));
    let text = |value: Value| match value {
        Value::String(text) => Ok(text),
        _ => Err(wrong()),
    };
    let texts = |value: Value| match value {
        Value::Array(values) if !values.is_empty() => values.into_iter().map(text).collect(),
        _ => Err(wrong()),
    };
    let blob = |encoded: String| {
        STANDARD
            .decode(encoded)
            .map(Blob::new)
            .map_err(|_| invalid(format!("a {tag} value that is not base64")))
    };
    Ok(match tag.as_str() {
        "S" => AttributeValue::S(text(inner)?),
        "N" => AttributeValue::N(number(text(inner)?)?),
        "B" => AttributeValue::B(blob(text(inner)?)?),
        "BOOL" => AttributeValue::Bool(inner.as_bool().ok_or_else(wrong)?),
        "NULL" if inner == Value::Bool(true) => AttributeValue::Null(true),
        "SS" => AttributeValue::Ss(texts(inner)?),
        "NS" => AttributeValue::Ns(
            texts(inner)?
                .into_iter()
                .map(number)
                .collect::<Result<_, _>>()?,
        ),
        "BS" => AttributeValue::Bs(
            texts(inner)?
                .into_iter()
                .map(blob)
                .collect::<Result<_, _>>()?,
        ),
        "L" => match inner {
            Value::Array(values) => {
                AttributeValue::L(values.into_iter().map(untyped).collect::<Result<_, _>>()?)
            }
            _ => return Err(wrong()),
        },
        "M" => match inner {
            Value::Object(attributes) => AttributeValue::M(attributes_of(attributes)?),
            _ => return Err(wrong()),
        },
        _ => return Err(invalid(format!("{tag} is not a DynamoDB type"))),
    })
}

/// A number as DynamoDB takes it: decimal text, up to 38 significant digits.
fn number(text: String) -> Result<String, InvalidItem> {
    let mantissa = text.split(['e', 'E']).next().unwrap_or_default();
    let significant = mantissa
        .trim_start_matches(['-', '+'])
        .replace('.', "")
        .trim_start_matches('0')
        .len();
    let numeric = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
        && text.parse::<f64>().is_ok_and(f64::is_finite);
    if numeric && significant <= 38 {
        Ok(text)
    } else {
        Err(invalid(format!("{text:?} is not a number DynamoDB stores")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_every_type() {
        let line = r#"{"Item":{"a":{"S":"x"},"b":{"N":"-1.5e3"},"c":{"B":"AAE="},"d":{"BOOL":false},"e":{"NULL":true},"f":{"L":[{"S":"y"},{"M":{"z":{"N":"2"}}}]},"g":{"SS":["p","q"]},"h":{"NS":["1","2"]},"i":{"BS":["AA=="]}}}"#;
        let item = from_line(line).unwrap();
        assert_eq!(to_line(&item), line);
    }

    #[test]
    fn malformed_values_are_refused() {
        for bad in [
            "",
            "[]",
            r#"{"Item":{"a":{"S":"x"}},"more":1}"#,
            r#"{"Item":{"a":"x"}}"#,
            r#"{"Item":{"a":{"S":1}}}"#,
            r#"{"Item":{"a":{"S":"x","N":"1"}}}"#,
            r#"{"Item":{"a":{"N":"one"}}}"#,
            r#"{"Item":{"a":{"N":"NaN"}}}"#,
            r#"{"Item":{"a":{"N":"123456789012345678901234567890123456789"}}}"#,
            r#"{"Item":{"a":{"B":"***"}}}"#,
            r#"{"Item":{"a":{"NULL":false}}}"#,
            r#"{"Item":{"a":{"SS":[]}}}"#,
            r#"{"Item":{"a":{"X":"y"}}}"#,
        ] {
            assert!(from_line(bad).is_err(), "{bad}");
        }
    }
}
