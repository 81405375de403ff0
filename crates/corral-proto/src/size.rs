//! Sizes and durations as people write them: `256m`, `1g`, `30s`, `5m`.
//!
//! Both accept a bare non-negative integer too (bytes, seconds), so API
//! clients can send numbers and the CLI can pass its flags through unparsed.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A number of bytes, parsed from `1024`, `512k`, `256m`, `256MiB`, `1g`…
/// Suffixes are binary (k = 1024).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

/// A duration in whole seconds, parsed from `45`, `45s`, `5m`, `2h`, `1d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DurationSpec(pub u64);

/// Why a size or duration could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseSizeError(String);

impl fmt::Display for ParseSizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseSizeError {}

fn split_number(text: &str) -> Result<(u64, String), ParseSizeError> {
    let text = text.trim();
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 {
        return Err(ParseSizeError(format!(
            "`{text}` does not start with a non-negative whole number"
        )));
    }
    let number = text[..digits]
        .parse::<u64>()
        .map_err(|_| ParseSizeError(format!("`{text}` is too large")))?;
    Ok((number, text[digits..].trim().to_ascii_lowercase()))
}

impl FromStr for ByteSize {
    type Err = ParseSizeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (number, unit) = split_number(text)?;
        let shift = match unit.trim_end_matches('b').trim_end_matches('i') {
            "" => 0,
            "k" => 10,
            "m" => 20,
            "g" => 30,
            "t" => 40,
            _ => {
                return Err(ParseSizeError(format!(
                    "`{text}` has an unknown unit (use b, k, m, g or t)"
                )));
            }
        };
        number
            .checked_mul(1u64 << shift)
            .map(ByteSize)
            .ok_or_else(|| ParseSizeError(format!("`{text}` is too large")))
    }
}

impl FromStr for DurationSpec {
    type Err = ParseSizeError;

    /// `45`, `45s`, `10m`, `2h`, `1d`, or parts run together as
    /// [`Display`](fmt::Display) writes them: `1h30m`, `1m05s`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let whole = text.trim();
        let too_large = || ParseSizeError(format!("`{whole}` is too large"));
        let mut rest = whole;
        let mut total: u64 = 0;
        loop {
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            if digits == 0 {
                return Err(ParseSizeError(format!(
                    "`{whole}` is not a duration like 45s, 10m or 1h30m"
                )));
            }
            let number = rest[..digits].parse::<u64>().map_err(|_| too_large())?;
            let letters = rest[digits..]
                .chars()
                .take_while(char::is_ascii_alphabetic)
                .count();
            let unit = rest[digits..digits + letters].to_ascii_lowercase();
            rest = rest[digits + letters..].trim_start();
            let factor = match unit.as_str() {
                "" if total == 0 && rest.is_empty() => 1,
                "s" | "sec" | "secs" => 1,
                "m" | "min" | "mins" => 60,
                "h" => 3600,
                "d" => 86_400,
                _ => {
                    return Err(ParseSizeError(format!(
                        "`{whole}` has an unknown unit (use s, m, h or d)"
                    )));
                }
            };
            total = number
                .checked_mul(factor)
                .and_then(|part| total.checked_add(part))
                .ok_or_else(too_large)?;
            if rest.is_empty() {
                return Ok(Self(total));
            }
        }
    }
}

/// The way a user writes it: `45s`, `10m`, `1h30m`, `1m05s`, `2d`; each part
/// after the first has two digits, and trailing zero parts are left out.
impl fmt::Display for DurationSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(u64, &str); 4] = [(86_400, "d"), (3600, "h"), (60, "m"), (1, "s")];
        if self.0 == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.0;
        let mut started = false;
        for (scale, unit) in UNITS {
            if rest == 0 {
                break;
            }
            let count = rest / scale;
            rest %= scale;
            if started {
                write!(f, "{count:02}{unit}")?;
            } else if count > 0 {
                write!(f, "{count}{unit}")?;
                started = true;
            }
        }
        Ok(())
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(u32, &str); 4] = [(40, "t"), (30, "g"), (20, "m"), (10, "k")];
        for (shift, unit) in UNITS {
            let scale = 1u64 << shift;
            if self.0 >= scale && self.0.is_multiple_of(scale) {
                return write!(f, "{}{unit}", self.0 / scale);
            }
        }
        write!(f, "{}", self.0)
    }
}

macro_rules! number_or_text {
    ($type:ty, $expecting:literal) => {
        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_u64(self.0)
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct NumberOrText;
                impl Visitor<'_> for NumberOrText {
                    type Value = $type;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_u64<E: de::Error>(self, value: u64) -> Result<$type, E> {
                        Ok(<$type>::from(value))
                    }
                    fn visit_i64<E: de::Error>(self, value: i64) -> Result<$type, E> {
                        u64::try_from(value)
                            .map(<$type>::from)
                            .map_err(|_| E::custom(format!("{value} is negative")))
                    }
                    fn visit_f64<E: de::Error>(self, value: f64) -> Result<$type, E> {
                        Err(E::custom(format!("{value} is not a whole number")))
                    }
                    fn visit_str<E: de::Error>(self, value: &str) -> Result<$type, E> {
                        value.parse().map_err(E::custom)
                    }
                }
                deserializer.deserialize_any(NumberOrText)
            }
        }

        impl From<u64> for $type {
            fn from(value: u64) -> Self {
                Self(value)
            }
        }
    };
}

number_or_text!(ByteSize, "a size like \"2g\" or \"256m\" (or bytes)");
number_or_text!(
    DurationSpec,
    "a duration like \"10m\" or \"1h30m\" (or seconds)"
);

/// `"256m"` or a number of bytes.
impl utoipa::PartialSchema for ByteSize {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        size_schema("A size: `256m`, `1g`, `512k` (binary suffixes) or a number of bytes.")
    }
}

impl utoipa::ToSchema for ByteSize {}

/// `"30s"` or a number of seconds.
impl utoipa::PartialSchema for DurationSpec {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        size_schema("A duration: `45s`, `5m`, `2h`, `1d` or a number of seconds.")
    }
}

impl utoipa::ToSchema for DurationSpec {}

fn size_schema(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::String))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0)),
        )
        .description(Some(description))
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_the_way_people_write_them() {
        assert_eq!("256m".parse(), Ok(ByteSize(256 << 20)));
        assert_eq!("256MiB".parse(), Ok(ByteSize(256 << 20)));
        assert_eq!("1g".parse(), Ok(ByteSize(1 << 30)));
        assert_eq!("4096".parse(), Ok(ByteSize(4096)));
        assert!("-1m".parse::<ByteSize>().is_err());
        assert!("12 parsecs".parse::<ByteSize>().is_err());
        assert!("99999999999999t".parse::<ByteSize>().is_err());
        assert_eq!(ByteSize(256 << 20).to_string(), "256m");
    }

    #[test]
    fn durations_read_the_way_people_write_them() {
        assert_eq!("30s".parse(), Ok(DurationSpec(30)));
        assert_eq!("5m".parse(), Ok(DurationSpec(300)));
        assert_eq!("2h".parse(), Ok(DurationSpec(7200)));
        assert_eq!("45".parse(), Ok(DurationSpec(45)));
        assert!("soon".parse::<DurationSpec>().is_err());
        assert_eq!("1h30m".parse(), Ok(DurationSpec(5400)));
        assert_eq!("1m05s".parse(), Ok(DurationSpec(65)));
        assert_eq!("1d02h".parse(), Ok(DurationSpec(93_600)));
        assert!(
            "1h30".parse::<DurationSpec>().is_err(),
            "a bare number ends nothing"
        );
        assert!("10 parsecs".parse::<DurationSpec>().is_err());
    }

    #[test]
    fn durations_are_written_the_way_people_write_them_and_read_back() {
        for (secs, written) in [
            (0, "0s"),
            (45, "45s"),
            (65, "1m05s"),
            (600, "10m"),
            (5400, "1h30m"),
            (3605, "1h00m05s"),
            (7200, "2h"),
            (86_400, "1d"),
        ] {
            assert_eq!(DurationSpec(secs).to_string(), written);
            assert_eq!(written.parse(), Ok(DurationSpec(secs)), "{written}");
        }
    }

    #[test]
    fn json_accepts_numbers_and_strings_but_not_negatives() {
        let size: ByteSize = serde_json::from_str("\"64m\"").expect("string size");
        assert_eq!(size, ByteSize(64 << 20));
        let size: ByteSize = serde_json::from_str("1024").expect("number size");
        assert_eq!(size, ByteSize(1024));
        let error = serde_json::from_str::<ByteSize>("-5").expect_err("negative size");
        assert!(error.to_string().contains("negative"), "{error}");
    }
}
