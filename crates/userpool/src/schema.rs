//! A pool's attribute schema: the `Schema` of CreateUserPool checked as Cognito checks it,
//! and the `SchemaAttributes` every pool description carries (the standard attributes,
//! then the custom ones).

use crate::error::PoolError;
use crate::model::{NumberBound, SchemaAttribute, StringBound};

/// The standard attributes of a Cognito pool's schema.
pub const STANDARD_ATTRIBUTES: [&str; 20] = [
    "address",
    "birthdate",
    "email",
    "email_verified",
    "family_name",
    "gender",
    "given_name",
    "locale",
    "middle_name",
    "name",
    "nickname",
    "phone_number",
    "phone_number_verified",
    "picture",
    "preferred_username",
    "profile",
    "updated_at",
    "website",
    "zoneinfo",
    "sub",
];

/// Cognito's limit on custom attributes per pool.
const MAX_CUSTOM_ATTRIBUTES: usize = 50;

const DATA_TYPES: [&str; 4] = ["String", "Number", "DateTime", "Boolean"];

fn standard_type(name: &str) -> &'static str {
    match name {
        "email_verified" | "phone_number_verified" => "Boolean",
        "updated_at" => "Number",
        _ => "String",
    }
}

fn invalid(message: String) -> PoolError {
    PoolError::InvalidParameter(message)
}

/// Checks a CreateUserPool `Schema` and returns it in stored form: custom names without
/// their `custom:` (or `dev:custom:`) prefix, and a standard attribute sent without
/// `AttributeDataType` with its own.
pub fn validate(mut schema: Vec<SchemaAttribute>) -> Result<Vec<SchemaAttribute>, PoolError> {
    for attribute in &mut schema {
        let bare = bare_name(&attribute.name).to_owned();
        attribute.name = bare;
        if attribute.attribute_data_type.is_empty() {
            if !STANDARD_ATTRIBUTES.contains(&attribute.name.as_str()) {
                return Err(invalid(
                    "Invalid AttributeDataType input, consider using the provided \
                     AttributeDataType enum."
                        .into(),
                ));
            }
            attribute.attribute_data_type = standard_type(&attribute.name).to_owned();
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for attribute in &schema {
        let name = attribute.name.as_str();
        let standard = STANDARD_ATTRIBUTES.contains(&name);
        if name.is_empty()
            || name.chars().count() > 20
            || name.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid(format!(
                "1 validation error detected: Value '{name}' at 'schema.name' failed to satisfy \
                 constraint: Member must have length between 1 and 20 and contain no whitespace"
            )));
        }
        if !seen.insert(name) {
            return Err(invalid(format!(
                "Duplicate attribute name {name} in Schema"
            )));
        }
        let data_type = attribute.attribute_data_type.as_str();
        if !DATA_TYPES.contains(&data_type) {
            return Err(invalid(format!(
                "1 validation error detected: Value '{data_type}' at 'schema.attributeDataType' \
                 failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                DATA_TYPES.join(", ")
            )));
        }
        if standard && (data_type != standard_type(name) || attribute.developer_only_attribute) {
            return Err(invalid(format!(
                "You can not change AttributeDataType or set developerOnlyAttribute for \
                 standard schema attribute {name}"
            )));
        }
        if !standard && attribute.required {
            return Err(invalid(
                "Required custom attributes are not supported currently.".into(),
            ));
        }
        if let Some(bounds) = &attribute.string_attribute_constraints {
            let min = parse_bound(name, "MinLength", bounds.min_length.as_deref())?.unwrap_or(0);
            let max = parse_bound(name, "MaxLength", bounds.max_length.as_deref())?.unwrap_or(2048);
            if min < 0 || max > 2048 || min > max {
                return Err(invalid(format!(
                    "Invalid StringAttributeConstraints for {name}: MinLength {min} and MaxLength \
                     {max} must satisfy 0 <= MinLength <= MaxLength <= 2048"
                )));
            }
        }
        if let Some(bounds) = &attribute.number_attribute_constraints {
            let min = parse_bound(name, "MinValue", bounds.min_value.as_deref())?;
            let max = parse_bound(name, "MaxValue", bounds.max_value.as_deref())?;
            if let (Some(min), Some(max)) = (min, max)
                && min > max
            {
                return Err(invalid(format!(
                    "Invalid NumberAttributeConstraints for {name}: MinValue {min} is greater \
                     than MaxValue {max}"
                )));
            }
        }
    }
    Ok(schema)
}

/// A custom attribute's name without its `custom:` (or a developer-only attribute's
/// `dev:custom:`) prefix, as the schema stores it.
fn bare_name(name: &str) -> &str {
    let name = name.strip_prefix("dev:").unwrap_or(name);
    name.strip_prefix("custom:").unwrap_or(name)
}

/// The name a schema attribute is described by: `custom:<name>`, or `dev:custom:<name>`
/// for a developer-only attribute, as Cognito names them.
fn described_name(attribute: &SchemaAttribute) -> String {
    let bare = bare_name(&attribute.name);
    if attribute.developer_only_attribute {
        format!("dev:custom:{bare}")
    } else {
        format!("custom:{bare}")
    }
}

/// The declared custom attribute `custom:<name>` of a pool's schema, if there is one.
fn custom<'a>(schema: &'a [SchemaAttribute], name: &str) -> Option<&'a SchemaAttribute> {
    let bare = name.strip_prefix("custom:")?;
    schema
        .iter()
        .filter(|a| !STANDARD_ATTRIBUTES.contains(&a.name.as_str()))
        .find(|a| bare_name(&a.name) == bare)
}

/// Whether the pool's schema has an attribute of this name: a standard one, or a declared
/// `custom:` one.
pub fn exists(schema: &[SchemaAttribute], name: &str) -> bool {
    STANDARD_ATTRIBUTES.contains(&name) || custom(schema, name).is_some()
}

/// Checks one attribute a caller writes against the pool's schema, as Cognito does: a
/// `custom:` attribute must be declared (CreateUserPool's `Schema` or AddCustomAttributes),
/// and its value must fit its declared type and bounds. Standard names are checked by the
/// caller.
pub fn check_value(schema: &[SchemaAttribute], name: &str, value: &str) -> Result<(), PoolError> {
    if !name.starts_with("custom:") {
        return Ok(());
    }
    let Some(declared) = custom(schema, name) else {
        return Err(invalid(format!(
            "Attributes did not conform to the schema: Type for attribute {{{name}}} could not \
             be determined"
        )));
    };
    let nonconforming = |why: String| {
        invalid(format!(
            "Attributes did not conform to the schema: {name}: {why}"
        ))
    };
    match declared.attribute_data_type.as_str() {
        "Number" => {
            let number: i64 = value
                .parse()
                .map_err(|_| nonconforming("Number must be an integer".into()))?;
            let bounds = declared
                .number_attribute_constraints
                .clone()
                .unwrap_or_default();
            let min = parse_bound(name, "MinValue", bounds.min_value.as_deref())?;
            let max = parse_bound(name, "MaxValue", bounds.max_value.as_deref())?;
            if min.is_some_and(|min| number < min) || max.is_some_and(|max| number > max) {
                return Err(nonconforming(format!(
                    "Number {number} is out of its bounds"
                )));
            }
        }
        "Boolean" if !matches!(value, "true" | "false") => {
            return Err(nonconforming("Boolean must be true or false".into()));
        }
        _ => {
            let bounds = declared
                .string_attribute_constraints
                .clone()
                .unwrap_or_default();
            let min = parse_bound(name, "MinLength", bounds.min_length.as_deref())?.unwrap_or(0);
            let max = parse_bound(name, "MaxLength", bounds.max_length.as_deref())?.unwrap_or(2048);
            let length = i64::try_from(value.chars().count()).unwrap_or(i64::MAX);
            if length < min || length > max {
                return Err(nonconforming(format!(
                    "String must be between {min} and {max} characters"
                )));
            }
        }
    }
    Ok(())
}

/// AddCustomAttributes: `added` (names with or without `custom:`) appended to `schema`,
/// refusing a name the pool has already and more than Cognito's 50 custom attributes.
pub fn add_custom(
    schema: &mut Vec<SchemaAttribute>,
    added: Vec<SchemaAttribute>,
) -> Result<(), PoolError> {
    let added: Vec<SchemaAttribute> = added
        .into_iter()
        .map(|a| SchemaAttribute {
            name: bare_name(&a.name).to_owned(),
            ..a
        })
        .collect();
    if added.is_empty() {
        return Err(invalid(
            "1 validation error detected: Value at 'customAttributes' failed to satisfy \
             constraint: Member must have length greater than or equal to 1"
                .into(),
        ));
    }
    for attribute in &added {
        let name = format!("custom:{}", attribute.name);
        if let Some(existing) = custom(schema, &name) {
            return Err(invalid(format!(
                "{name}: Existing attribute already has name {}.",
                described_name(existing)
            )));
        }
        if STANDARD_ATTRIBUTES.contains(&attribute.name.as_str()) {
            return Err(invalid(format!(
                "Existing attribute already has name {name}."
            )));
        }
    }
    let added = validate(added)?;
    let customs = schema
        .iter()
        .filter(|a| !STANDARD_ATTRIBUTES.contains(&a.name.as_str()))
        .count();
    if customs + added.len() > MAX_CUSTOM_ATTRIBUTES {
        return Err(invalid(format!(
            "A user pool can have at most {MAX_CUSTOM_ATTRIBUTES} custom attributes"
        )));
    }
    schema.extend(added);
    Ok(())
}

fn parse_bound(name: &str, which: &str, value: Option<&str>) -> Result<Option<i64>, PoolError> {
    value
        .map(|v| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| invalid(format!("{which} of {name} must be an integer, not {v:?}")))
        })
        .transpose()
}

/// `SchemaAttributes`: every standard attribute (with what the pool changed about it),
/// then the custom ones as `custom:<name>`.
pub fn describe(schema: &[SchemaAttribute]) -> Vec<SchemaAttribute> {
    let mut out: Vec<SchemaAttribute> = STANDARD_ATTRIBUTES
        .iter()
        .map(|name| {
            let given = schema.iter().find(|a| a.name == *name);
            let data_type = standard_type(name);
            SchemaAttribute {
                name: (*name).to_owned(),
                attribute_data_type: data_type.to_owned(),
                developer_only_attribute: false,
                mutable: given.map_or(*name != "sub", |a| a.mutable),
                required: *name == "sub" || given.is_some_and(|a| a.required),
                string_attribute_constraints: (data_type == "String").then(|| {
                    let (min, max) = match *name {
                        "sub" => ("1", "2048"),
                        // A date, `YYYY-MM-DD`.
                        "birthdate" => ("10", "10"),
                        _ => ("0", "2048"),
                    };
                    StringBound {
                        min_length: Some(min.into()),
                        max_length: Some(max.into()),
                    }
                }),
                number_attribute_constraints: (data_type == "Number").then(|| NumberBound {
                    min_value: Some("0".into()),
                    max_value: None,
                }),
            }
        })
        .collect();
    out.extend(
        schema
            .iter()
            .filter(|a| !STANDARD_ATTRIBUTES.contains(&a.name.as_str()))
            .map(|a| SchemaAttribute {
                name: described_name(a),
                ..a.clone()
            }),
    );
    out
}

/// The columns of Cognito's user import CSV for a pool with `schema`, in `GetCSVHeader`'s
/// order: the standard attributes (without `sub`, which Cognito assigns), the pool's custom
/// ones, then `cognito:mfa_enabled` and `cognito:username`.
pub fn csv_header(schema: &[SchemaAttribute]) -> Vec<String> {
    const STANDARD_COLUMNS: [&str; 19] = [
        "name",
        "given_name",
        "family_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "profile",
        "picture",
        "website",
        "email",
        "email_verified",
        "gender",
        "birthdate",
        "zoneinfo",
        "locale",
        "phone_number",
        "phone_number_verified",
        "address",
        "updated_at",
    ];
    STANDARD_COLUMNS
        .iter()
        .map(|name| (*name).to_owned())
        .chain(
            schema
                .iter()
                .filter(|a| !STANDARD_ATTRIBUTES.contains(&a.name.as_str()))
                .map(|a| format!("custom:{}", bare_name(&a.name))),
        )
        .chain([
            "cognito:mfa_enabled".to_owned(),
            "cognito:username".to_owned(),
        ])
        .collect()
}
