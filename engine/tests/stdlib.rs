//! The standard library function by function (SPEC §6): what each gives, and what each
//! raises, for and against every case its implementation tells apart. Called as the
//! interpreter calls it, through `stdlib::call`.

mod common;

use common::TestEffects;
use wfsim_engine::Value;
use wfsim_engine::error::{Raised, message, tags};
use wfsim_engine::stdlib::{self, LogPayload};

/// A value from JSON text.
fn v(json: &str) -> Value {
    Value::from_json(&serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}")))
}

fn bytes(b: &[u8]) -> Value {
    Value::Bytes(b.into())
}

fn call_with(
    host: &mut TestEffects,
    name: &str,
    args: Vec<Option<Value>>,
) -> Result<Value, Raised> {
    stdlib::call(name, args, host)
}

fn call(name: &str, args: Vec<Value>) -> Result<Value, Raised> {
    call_with(
        &mut TestEffects::default(),
        name,
        args.into_iter().map(Some).collect(),
    )
}

#[track_caller]
fn gives(name: &str, args: Vec<Value>, want: Value) {
    assert_eq!(call(name, args.clone()), Ok(want), "{name}({args:?})");
}

/// `name(args)` raises an error tagged `tag` whose message contains `text`.
#[track_caller]
fn raises(name: &str, args: Vec<Value>, tag: &str, text: &str) {
    match call(name, args.clone()) {
        Err(e) => {
            assert_eq!(tags(&e), [tag], "{name}({args:?}): {e:?}");
            let m = message(&e).unwrap_or_default();
            assert!(m.contains(text), "{name}({args:?}): '{m}' lacks '{text}'");
        }
        Ok(v) => panic!("{name}({args:?}) gave {v:?}, expected {tag}"),
    }
}

#[test]
fn conversions() {
    gives("bool", vec![v("true")], v("true"));
    gives("bool", vec![v("false")], v("false"));
    gives("bool", vec![v(r#""TRUE""#)], v("true"));
    gives("bool", vec![v(r#""True""#)], v("true"));
    gives("bool", vec![v(r#""false""#)], v("false"));
    gives("bool", vec![v(r#""FaLsE""#)], v("false"));
    raises(
        "bool",
        vec![v(r#""yes""#)],
        "ValueError",
        "cannot convert 'yes'",
    );
    raises(
        "bool",
        vec![v("1")],
        "TypeError",
        "cannot convert an integer",
    );

    gives("double", vec![v("2")], Value::Double(2.0));
    gives("double", vec![v("2.5")], Value::Double(2.5));
    gives("double", vec![v(r#"" 2.5 ""#)], Value::Double(2.5));
    raises(
        "double",
        vec![v(r#""x""#)],
        "ValueError",
        "cannot convert 'x'",
    );
    raises(
        "double",
        vec![v("null")],
        "TypeError",
        "cannot convert null",
    );

    gives("int", vec![v("7")], v("7"));
    gives("int", vec![v("2.9")], v("2"));
    gives("int", vec![v("-2.9")], v("-2"));
    gives("int", vec![v(r#"" 42 ""#)], v("42"));
    gives(
        "int",
        vec![Value::Double(9.1e18)],
        Value::Int(9_100_000_000_000_000_000),
    );
    gives(
        "int",
        vec![Value::Double(-9.1e18)],
        Value::Int(-9_100_000_000_000_000_000),
    );
    raises(
        "int",
        vec![Value::Double(9.3e18)],
        "ValueError",
        "out of range",
    );
    raises(
        "int",
        vec![Value::Double(-9.3e18)],
        "ValueError",
        "out of range",
    );
    raises(
        "int",
        vec![Value::Double(f64::NAN)],
        "ValueError",
        "out of range",
    );
    raises(
        "int",
        vec![v(r#""4.5""#)],
        "ValueError",
        "cannot convert '4.5'",
    );
    raises("int", vec![v("[]")], "TypeError", "cannot convert a list");

    gives("string", vec![v(r#""s""#)], v(r#""s""#));
    gives("string", vec![v("12")], v(r#""12""#));
    gives("string", vec![v("1.5")], v(r#""1.5""#));
    gives("string", vec![v("true")], v(r#""true""#));
    gives("string", vec![v("null")], v(r#""null""#));
    raises("string", vec![v("{}")], "TypeError", "cannot convert a map");

    gives("default", vec![v("1"), v("2")], v("1"));
    gives("default", vec![v("null"), v("2")], v("2"));
    gives("default", vec![v("false"), v("2")], v("false"));
    assert_eq!(
        call_with(
            &mut TestEffects::default(),
            "default",
            vec![None, Some(v("3"))]
        ),
        Ok(v("3"))
    );
}

#[test]
fn lengths_keys_and_lists() {
    gives("len", vec![v(r#""héllo""#)], v("5"));
    gives("len", vec![bytes("hé".as_bytes())], v("3"));
    gives("len", vec![v("[1, 2]")], v("2"));
    gives("len", vec![v(r#"{"a": 1}"#)], v("1"));
    raises(
        "len",
        vec![v("3")],
        "TypeError",
        "len: an integer has no length",
    );
    raises(
        "len",
        vec![v("null")],
        "TypeError",
        "len: null has no length",
    );

    gives("keys", vec![v(r#"{"b": 1, "a": 2}"#)], v(r#"["a", "b"]"#));
    raises(
        "keys",
        vec![v("[1]")],
        "TypeError",
        "keys: needs a map, got a list",
    );

    gives("list.concat", vec![v("[1]"), v("2")], v("[1, 2]"));
    gives("list.concat", vec![v("[1]"), v("[2, 3]")], v("[1, 2, 3]"));
    gives("list.prepend", vec![v("[1]"), v("[0]")], v("[[0], 1]"));
    gives("list.prepend", vec![v("[1, 2]"), v("0")], v("[0, 1, 2]"));
    raises(
        "list.concat",
        vec![v("1"), v("2")],
        "TypeError",
        "list.concat: needs a list",
    );
}

#[test]
fn maps() {
    let m = v(r#"{"a": {"b": {"c": 1}}, "x": 2}"#);
    gives("map.get", vec![m.clone(), v(r#""x""#)], v("2"));
    gives("map.get", vec![m.clone(), v(r#"["a", "b", "c"]"#)], v("1"));
    gives(
        "map.get",
        vec![m.clone(), v(r#"["a", "nope", "c"]"#)],
        v("null"),
    );
    gives("map.get", vec![m.clone(), v(r#""nope""#)], v("null"));
    raises(
        "map.get",
        vec![m.clone(), v("[1]")],
        "TypeError",
        "needs a string",
    );

    gives("map.delete", vec![m.clone(), v(r#""a""#)], v(r#"{"x": 2}"#));
    gives("map.delete", vec![m.clone(), v(r#""zz""#)], m.clone());
    raises(
        "map.delete",
        vec![v("[]"), v(r#""a""#)],
        "TypeError",
        "needs a map",
    );

    let first = v(r#"{"a": {"b": 1, "c": 2}, "k": 1}"#);
    let second = v(r#"{"a": {"b": 9, "d": 4}, "z": 0}"#);
    gives(
        "map.merge",
        vec![first.clone(), second.clone()],
        v(r#"{"a": {"b": 9, "d": 4}, "k": 1, "z": 0}"#),
    );
    gives(
        "map.merge_nested",
        vec![first.clone(), second.clone()],
        v(r#"{"a": {"b": 9, "c": 2, "d": 4}, "k": 1, "z": 0}"#),
    );
    // A map over a non-map replaces it, nested or not.
    gives(
        "map.merge_nested",
        vec![v(r#"{"a": 1}"#), v(r#"{"a": {"b": 2}}"#)],
        v(r#"{"a": {"b": 2}}"#),
    );
    raises(
        "map.merge",
        vec![v("1"), v("{}")],
        "TypeError",
        "needs a map",
    );
}

#[test]
fn math() {
    gives("math.abs", vec![v("-3")], v("3"));
    gives("math.abs", vec![v("3")], v("3"));
    gives("math.abs", vec![v("-2.5")], Value::Double(2.5));
    raises(
        "math.abs",
        vec![Value::Int(i64::MIN)],
        "ValueError",
        "overflow",
    );
    raises("math.abs", vec![v(r#""1""#)], "TypeError", "needs a number");

    gives("math.floor", vec![v("4")], v("4"));
    gives("math.floor", vec![v("2.7")], v("2"));
    gives("math.floor", vec![v("-2.2")], v("-3"));
    gives(
        "math.floor",
        vec![Value::Double(-9.1e18)],
        Value::Int(-9_100_000_000_000_000_000),
    );
    raises(
        "math.floor",
        vec![Value::Double(9.3e18)],
        "ValueError",
        "out of range",
    );
    raises(
        "math.floor",
        vec![Value::Double(-9.3e18)],
        "ValueError",
        "out of range",
    );
    raises(
        "math.floor",
        vec![Value::Double(f64::INFINITY)],
        "ValueError",
        "out of range",
    );
    raises("math.floor", vec![v("null")], "TypeError", "needs a number");

    gives("math.max", vec![v("1"), v("2")], v("2"));
    gives("math.max", vec![v("3"), v("2")], v("3"));
    gives("math.min", vec![v("1"), v("2")], v("1"));
    gives("math.min", vec![v("3"), v("2")], v("2"));
    gives("math.max", vec![v("2"), v("2.5")], Value::Double(2.5));
    // Equal: the first.
    gives("math.max", vec![v("2"), Value::Double(2.0)], v("2"));
    gives(
        "math.min",
        vec![Value::Double(2.0), v("2")],
        Value::Double(2.0),
    );
    raises(
        "math.max",
        vec![v(r#""a""#), v(r#""b""#)],
        "TypeError",
        "two numbers",
    );
    raises(
        "math.min",
        vec![v("1"), v(r#""b""#)],
        "TypeError",
        "two numbers",
    );
}

#[test]
fn json_and_base64() {
    gives(
        "json.decode",
        vec![v(r#""[1, 2.5, \"x\"]""#)],
        v(r#"[1, 2.5, "x"]"#),
    );
    gives(
        "json.decode",
        vec![bytes(br#"{"a": null}"#)],
        v(r#"{"a": null}"#),
    );
    raises(
        "json.decode",
        vec![v(r#""{""#)],
        "ValueError",
        "json.decode",
    );
    raises(
        "json.decode",
        vec![v("1")],
        "TypeError",
        "json.decode: needs a string or bytes",
    );

    gives(
        "json.encode",
        vec![v(r#"{"a": [1]}"#)],
        bytes(br#"{"a":[1]}"#),
    );
    gives(
        "json.encode_to_string",
        vec![v(r#"{"a": [1]}"#)],
        v(r#""{\"a\":[1]}""#),
    );
    let pretty = "{\n  \"a\": 1\n}";
    for indent in [v("2"), v("true"), v(r#""  ""#), v("{}")] {
        gives(
            "json.encode_to_string",
            vec![v(r#"{"a": 1}"#), indent],
            Value::str(pretty),
        );
    }
    gives(
        "json.encode_to_string",
        vec![v(r#"{"a": 1}"#), v("false")],
        v(r#""{\"a\":1}""#),
    );
    raises(
        "json.encode",
        vec![Value::list(vec![bytes(b"x")])],
        "TypeError",
        "bytes cannot be encoded",
    );

    gives("base64.encode", vec![v(r#""hi""#)], v(r#""aGk=""#));
    gives("base64.encode", vec![bytes(&[0xff, 0x00])], v(r#""/wA=""#));
    raises(
        "base64.encode",
        vec![v("1")],
        "TypeError",
        "base64.encode: needs bytes",
    );
    gives("base64.decode", vec![v(r#""aGk=""#)], bytes(b"hi"));
    gives("base64.decode", vec![v(r#""aGk""#)], bytes(b"hi"));
    raises(
        "base64.decode",
        vec![v(r#""*""#)],
        "ValueError",
        "base64.decode",
    );
    raises(
        "base64.decode",
        vec![bytes(b"aGk=")],
        "TypeError",
        "needs a string",
    );
}

#[test]
fn text() {
    gives("text.decode", vec![bytes("hé".as_bytes())], v(r#""hé""#));
    raises(
        "text.decode",
        vec![bytes(&[0xff])],
        "ValueError",
        "not valid UTF-8",
    );
    raises(
        "text.decode",
        vec![v(r#""s""#)],
        "TypeError",
        "text.decode: needs bytes",
    );
    gives("text.encode", vec![v(r#""hé""#)], bytes("hé".as_bytes()));

    gives(
        "text.find_all",
        vec![v(r#""é-ab-ab""#), v(r#""ab""#)],
        v(r#"[{"index": 2, "match": "ab"}, {"index": 5, "match": "ab"}]"#),
    );
    gives("text.find_all", vec![v(r#""xyz""#), v(r#""q""#)], v("[]"));
    raises(
        "text.find_all",
        vec![v(r#""x""#), v(r#""""#)],
        "ValueError",
        "must not be empty",
    );

    gives(
        "text.match_regex",
        vec![v(r#""abc123""#), v(r#""[0-9]+$""#)],
        v("true"),
    );
    gives(
        "text.match_regex",
        vec![v(r#""abc""#), v(r#""^[0-9]""#)],
        v("false"),
    );
    raises(
        "text.match_regex",
        vec![v(r#""a""#), v(r#""(""#)],
        "ValueError",
        "invalid regex",
    );

    gives(
        "text.replace_all",
        vec![v(r#""a-b-c""#), v(r#""-""#), v(r#""+-""#)],
        v(r#""a+-b+-c""#),
    );
    gives(
        "text.replace_all",
        vec![v(r#""abc""#), v(r#""""#), v(r#""x""#)],
        v(r#""abc""#),
    );
    // Shrinking replacements are measured right: 4 bytes each become 1.
    gives(
        "text.replace_all",
        vec![v(r#""aaaaaaaa""#), v(r#""aaaa""#), v(r#""b""#)],
        v(r#""bb""#),
    );

    gives(
        "text.split",
        vec![v(r#""a,b,,c""#), v(r#"",""#)],
        v(r#"["a", "b", "", "c"]"#),
    );
    gives(
        "text.split",
        vec![v(r#""hé""#), v(r#""""#)],
        v(r#"["h", "é"]"#),
    );

    let s = v(r#""héllo""#);
    gives(
        "text.substring",
        vec![s.clone(), v("1"), v("3")],
        v(r#""él""#),
    );
    gives(
        "text.substring",
        vec![s.clone(), v("-5"), v("2")],
        v(r#""hé""#),
    );
    gives(
        "text.substring",
        vec![s.clone(), v("3"), v("99")],
        v(r#""lo""#),
    );
    gives(
        "text.substring",
        vec![s.clone(), v("3"), v("3")],
        v(r#""""#),
    );
    gives(
        "text.substring",
        vec![s.clone(), v("4"), v("2")],
        v(r#""""#),
    );
    raises(
        "text.substring",
        vec![s.clone(), v("1.5"), v("3")],
        "TypeError",
        "text.substring: needs an integer",
    );

    gives("text.to_lower", vec![v(r#""ÀB""#)], v(r#""àb""#));
    gives("text.to_upper", vec![v(r#""àb""#)], v(r#""ÀB""#));
    raises(
        "text.to_upper",
        vec![v("1")],
        "TypeError",
        "text.to_upper: needs a string, got an integer",
    );
    gives(
        "text.url_encode",
        vec![v(r#""a b/é-_.~""#)],
        v(r#""a%20b%2F%C3%A9-_.~""#),
    );
}

/// int64's edges, both exact as doubles: -2^63 converts, 2^63 does not.
#[test]
fn conversions_at_the_edges_of_int64() {
    let two_63 = 9_223_372_036_854_775_808.0;
    gives("int", vec![Value::Double(-two_63)], Value::Int(i64::MIN));
    gives(
        "int",
        vec![Value::Double(-two_63 - 0.5)],
        Value::Int(i64::MIN),
    );
    raises(
        "int",
        vec![Value::Double(two_63)],
        "ValueError",
        "out of range",
    );
    gives(
        "int",
        vec![Value::Double(9.2e18)],
        Value::Int(9_200_000_000_000_000_000),
    );
    raises(
        "math.floor",
        vec![Value::Double(two_63)],
        "ValueError",
        "out of range",
    );
    gives(
        "math.floor",
        vec![Value::Double(-two_63)],
        Value::Int(i64::MIN),
    );
    raises(
        "math.floor",
        vec![Value::Double(-two_63 - 2048.0)],
        "ValueError",
        "out of range",
    );
}

/// The value limit (512 KiB, counted as `Value::bytes` counts) at its exact edge: a result
/// of exactly the limit is given, one byte more raises, and the library's own early check
/// says so before the interpreter's.
#[test]
fn results_at_the_value_limit() {
    const MAX: usize = 512 * 1024;
    // 13,107 matches of 6 characters: 8 + 13,107 × (8 + 5 + 8 + 5 + 8 + 6) = 524,288 bytes.
    let source = Value::str("abcdef".repeat(13_107));
    let found = call("text.find_all", vec![source, v(r#""abcdef""#)]).unwrap();
    assert_eq!((found.bytes(), found.depth()), (MAX, 3));
    let over = Value::str(format!("{}abcdef", "abcdef".repeat(13_107)));
    raises(
        "text.find_all",
        vec![over, v(r#""abcdef""#)],
        "ResourceLimitError",
        "text.find_all: the matches would hold over",
    );
    // 174,760 "ab" become "xyz": 524,280 characters, 8 + 524,280 = the limit.
    let ab = "ab".repeat(174_760);
    let at = call(
        "text.replace_all",
        vec![Value::str(ab.as_str()), v(r#""ab""#), v(r#""xyz""#)],
    )
    .unwrap();
    assert_eq!(at.bytes(), MAX);
    raises(
        "text.replace_all",
        vec![Value::str(format!("q{ab}")), v(r#""ab""#), v(r#""xyz""#)],
        "ResourceLimitError",
        "text.replace_all: the result would hold 524281 bytes",
    );
    // The regex forms have the same limit, to the byte: a result of exactly the limit is
    // given, one byte more refused.
    let found = call(
        "text.find_all_regex",
        vec![Value::str("abcdef".repeat(13_107)), v(r#""abcdef""#)],
    )
    .unwrap();
    assert_eq!(found.bytes(), MAX);
    raises(
        "text.find_all_regex",
        vec![Value::str("abcdef".repeat(13_108)), v(r#""abcdef""#)],
        "ResourceLimitError",
        "text.find_all_regex: the matches would not fit",
    );
    let at = call(
        "text.replace_all_regex",
        vec![Value::str(ab.as_str()), v(r#""ab""#), v(r#""xyz""#)],
    )
    .unwrap();
    assert_eq!(at.bytes(), MAX);
    raises(
        "text.replace_all_regex",
        vec![Value::str(format!("q{ab}")), v(r#""ab""#), v(r#""xyz""#)],
        "ResourceLimitError",
        "text.replace_all_regex: the result would hold 524281 bytes",
    );
}

#[test]
fn lib_1_time_format_and_parse() {
    // Six fractional digits and `Z` without a zone, as GCP renders (issue #10).
    gives(
        "time.format",
        vec![v("0")],
        v(r#""1970-01-01T00:00:00.000000Z""#),
    );
    gives(
        "time.format",
        vec![v("1.25")],
        v(r#""1970-01-01T00:00:01.250000Z""#),
    );
    gives(
        "time.format",
        vec![v("1720788633")],
        v(r#""2024-07-12T12:50:33.000000Z""#),
    );
    // An IANA zone: the offset in force at that instant (summer and winter time).
    gives(
        "time.format",
        vec![v("1720788633"), v(r#""Europe/Paris""#)],
        v(r#""2024-07-12T14:50:33.000000+02:00""#),
    );
    gives(
        "time.format",
        vec![v("1704067200.0000002"), v(r#""Europe/Paris""#)],
        v(r#""2024-01-01T01:00:00.000000+01:00""#),
    );
    gives(
        "time.format",
        vec![v("1704067200.9999996"), v(r#""America/Los_Angeles""#)],
        v(r#""2023-12-31T16:00:01.000000-08:00""#),
    );
    gives(
        "time.format",
        vec![v("-1.5"), v(r#""Asia/Kolkata""#)],
        v(r#""1970-01-01T05:29:58.500000+05:30""#),
    );
    gives(
        "time.format",
        vec![v("0"), v(r#""UTC""#)],
        v(r#""1970-01-01T00:00:00.000000+00:00""#),
    );
    raises(
        "time.format",
        vec![v("0"), v(r#""Mars/Olympus_Mons""#)],
        "ValueError",
        "time.format: unknown time zone 'Mars/Olympus_Mons'",
    );
    raises(
        "time.format",
        vec![v("0"), v("2")],
        "TypeError",
        "time.format: timezone must be a string, got an integer",
    );
    raises(
        "time.format",
        vec![v("1e300")],
        "ValueError",
        "is not a time between the years -9999 and 9999",
    );
    raises(
        "time.format",
        vec![v(r#""0""#)],
        "TypeError",
        "time.format: seconds must be a number, got a string",
    );
    gives(
        "time.parse",
        vec![v(r#""1970-01-01T00:00:01.5Z""#)],
        Value::Double(1.5),
    );
    gives(
        "time.parse",
        vec![v(r#""1970-01-01T02:00:00+02:00""#)],
        Value::Double(0.0),
    );
    gives(
        "time.parse",
        vec![v(r#""1970-01-01T00:00:00-01:30""#)],
        Value::Double(5400.0),
    );
    for bad in [
        r#""1970-01-01""#,
        r#""1970-13-01T00:00:00Z""#,
        r#""1970-01-32T00:00:00Z""#,
        r#""1970-01-01T24:00:00Z""#,
        r#""1970-01-01T00:60:00Z""#,
        r#""1970-01-01T00:00:61Z""#,
        r#""1970-01-01T00:00:00.Z""#,
        r#""1970-01-01T00:00:00+0100""#,
        r#""1970-01-01T00:00:00""#,
    ] {
        raises(
            "time.parse",
            vec![v(bad)],
            "ValueError",
            "not an RFC 3339 time",
        );
    }
}

#[test]
fn sys_uuid_and_events() {
    let mut host = TestEffects::default();
    let env =
        |host: &mut TestEffects, args: Vec<Option<Value>>| call_with(host, "sys.get_env", args);
    assert_eq!(
        env(&mut host, vec![Some(v(r#""GOOGLE_CLOUD_PROJECT_ID""#))]),
        Ok(v(r#""demo""#))
    );
    assert_eq!(env(&mut host, vec![Some(v(r#""NOPE""#))]), Ok(v("null")));
    assert_eq!(
        env(&mut host, vec![Some(v(r#""NOPE""#)), Some(v(r#""fb""#))]),
        Ok(v(r#""fb""#))
    );
    // LIB-2: the default is a string; a set variable wins over it.
    assert_eq!(
        env(
            &mut host,
            vec![Some(v(r#""GOOGLE_CLOUD_PROJECT_ID""#)), Some(v(r#""fb""#))]
        ),
        Ok(v(r#""demo""#))
    );
    let e = env(&mut host, vec![Some(v(r#""NOPE""#)), Some(v("1"))]).unwrap_err();
    assert_eq!(tags(&e), ["TypeError"]);
    assert_eq!(
        message(&e).unwrap(),
        "sys.get_env: default must be a string, got an integer"
    );
    let e = env(&mut host, vec![Some(v("[]"))]).unwrap_err();
    assert_eq!(
        message(&e).unwrap(),
        "sys.get_env: needs a string, got a list"
    );

    assert_eq!(
        call_with(&mut host, "sys.now", vec![]),
        Ok(Value::Double(1_704_067_205.5))
    );
    assert_eq!(
        call_with(&mut host, "uuid.generate", vec![]),
        Ok(v(r#""uuid-1""#))
    );

    let log = |host: &mut TestEffects, data, severity, text, json| {
        call_with(host, "sys.log", vec![data, severity, text, json])
    };
    assert_eq!(
        log(&mut host, None, None, Some(v(r#""t""#)), None),
        Ok(v("null"))
    );
    assert_eq!(
        log(&mut host, Some(v("[1]")), Some(v(r#""INFO""#)), None, None),
        Ok(v("null"))
    );
    assert_eq!(
        log(&mut host, None, None, None, Some(v("{}"))),
        Ok(v("null"))
    );
    assert_eq!(
        host.logs,
        vec![
            ("DEFAULT".to_owned(), LogPayload::Text("t".into())),
            ("INFO".to_owned(), LogPayload::Data(v("[1]"))),
            ("DEFAULT".to_owned(), LogPayload::Data(v("{}"))),
        ]
    );
    for (args, text) in [
        (
            vec![None, None, Some(v("1")), None],
            "text must be a string",
        ),
        (
            vec![None, Some(v("1")), Some(v(r#""t""#)), None],
            "severity must be a string",
        ),
        (
            vec![Some(v("1")), None, Some(v(r#""t""#)), None],
            "exactly one of",
        ),
        (vec![None, None, None, None], "exactly one of"),
    ] {
        let e = call_with(&mut host, "sys.log", args).unwrap_err();
        assert_eq!(tags(&e), ["TypeError"]);
        assert!(message(&e).unwrap().contains(text), "{e:?}");
    }
    assert_eq!(host.logs.len(), 3, "a refused entry is not logged");

    assert_eq!(
        call_with(&mut host, "events.create_callback_endpoint", vec![None]),
        Ok(v(r#"{"url": "https://cb/POST"}"#))
    );
    assert_eq!(
        call_with(
            &mut host,
            "events.create_callback_endpoint",
            vec![Some(v(r#""GET""#))]
        ),
        Ok(v(r#"{"url": "https://cb/GET"}"#))
    );
    let e = call_with(
        &mut host,
        "events.create_callback_endpoint",
        vec![Some(v("1"))],
    )
    .unwrap_err();
    assert_eq!(tags(&e), ["TypeError"]);
    assert_eq!(host.endpoints, ["POST", "GET"]);
}

#[test]
fn retry_predicates_and_unknown_names() {
    gives(
        "retry.never",
        vec![v(r#"{"tags": ["ConnectionError"]}"#)],
        v("false"),
    );
    gives("retry.always", vec![v(r#""anything""#)], v("true"));
    raises("no.such", vec![], "SystemError", "cannot be called here");
}

fn hex(v: &Value) -> String {
    match v {
        Value::Bytes(b) => b.iter().map(|x| format!("{x:02x}")).collect(),
        other => panic!("not bytes: {other:?}"),
    }
}

fn text_bytes(s: &str) -> Value {
    bytes(s.as_bytes())
}

#[test]
fn lib_4_hash_checksums_with_every_algorithm() {
    let digest = |data: &str, algo: &str| {
        hex(&call(
            "hash.compute_checksum",
            vec![text_bytes(data), v(&format!("\"{algo}\""))],
        )
        .unwrap())
    };
    // GCP's own example: SHA-256 of "Hello World", Base64-encoded.
    let sum = call(
        "hash.compute_checksum",
        vec![text_bytes("Hello World"), v(r#""SHA256""#)],
    )
    .unwrap();
    gives(
        "base64.encode",
        vec![sum],
        v(r#""pZGm1Av0IEBKARczz7exkNYsZb8LzaMrV7J32a2fFG4=""#),
    );
    // FIPS 180 / RFC 1321 test vectors.
    assert_eq!(digest("", "MD5"), "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(
        digest("abc", "SHA1"),
        "a9993e364706816aba3e25717850c26c9cd0d89d"
    );
    assert_eq!(
        digest("abc", "SHA224"),
        "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"
    );
    assert_eq!(
        digest("abc", "SHA384"),
        "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"
    );
    assert_eq!(
        digest("abc", "SHA512"),
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
    );
    raises(
        "hash.compute_checksum",
        vec![v(r#""abc""#), v(r#""SHA256""#)],
        "TypeError",
        "hash.compute_checksum: data must be bytes, got a string",
    );
    raises(
        "hash.compute_checksum",
        vec![text_bytes("abc"), v("256")],
        "TypeError",
        "algorithm must be a string, got an integer",
    );
    raises(
        "hash.compute_checksum",
        vec![text_bytes("abc"), v(r#""sha256""#)],
        "ValueError",
        "unsupported algorithm 'sha256'; supported: MD5, SHA1, SHA224, SHA256, SHA384, SHA512",
    );
    raises(
        "hash.compute_checksum",
        vec![text_bytes("abc"), v(r#""CRC32""#)],
        "ValueError",
        "'CRC32'",
    );
}

#[test]
fn lib_4_hash_hmacs_with_every_algorithm() {
    let mac = |key: &str, data: &str, algo: &str| {
        hex(&call(
            "hash.compute_hmac",
            vec![text_bytes(key), text_bytes(data), v(&format!("\"{algo}\""))],
        )
        .unwrap())
    };
    // GCP's own example: HMAC-SHA256 of "Hello World" under "key", Base64-encoded.
    let code = call(
        "hash.compute_hmac",
        vec![
            text_bytes("key"),
            text_bytes("Hello World"),
            v(r#""SHA256""#),
        ],
    )
    .unwrap();
    gives(
        "base64.encode",
        vec![code],
        v(r#""QidPcoCDkuWLV9co1+PA5RY+rwfRZdwDEF9iq74afRE=""#),
    );
    // RFC 2202 and RFC 4231, test case 2.
    let (k, d) = ("Jefe", "what do ya want for nothing?");
    assert_eq!(mac(k, d, "MD5"), "750c783e6ab0b503eaa86e310a5db738");
    assert_eq!(
        mac(k, d, "SHA1"),
        "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
    );
    assert_eq!(
        mac(k, d, "SHA224"),
        "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44"
    );
    assert_eq!(
        mac(k, d, "SHA256"),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    assert_eq!(
        mac(k, d, "SHA384"),
        "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"
    );
    assert_eq!(
        mac(k, d, "SHA512"),
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
    );
    // A key longer than the block is hashed first, not refused.
    assert_eq!(mac(&"k".repeat(200), d, "SHA256").len(), 64);
    raises(
        "hash.compute_hmac",
        vec![v(r#""key""#), text_bytes(d), v(r#""SHA256""#)],
        "TypeError",
        "key must be bytes, got a string",
    );
    raises(
        "hash.compute_hmac",
        vec![text_bytes("key"), v("[1]"), v(r#""SHA256""#)],
        "TypeError",
        "data must be bytes, got a list",
    );
    raises(
        "hash.compute_hmac",
        vec![text_bytes("key"), text_bytes(d), v(r#""SHA3""#)],
        "ValueError",
        "unsupported algorithm 'SHA3'",
    );
}

#[test]
fn lib_3_regexes_take_the_leftmost_then_longest_match() {
    // GCP's example.
    gives(
        "text.find_all_regex",
        vec![v(r#""HelloWorld""#), v(r#""Hello|World""#)],
        v(r#"[{"index": 0, "match": "Hello"}, {"index": 5, "match": "World"}]"#),
    );
    // Of the matches starting at one index, the longest, whatever the alternation order.
    gives(
        "text.find_all_regex",
        vec![v(r#""HelloWorld""#), v(r#""Hello|HelloWorld""#)],
        v(r#"[{"index": 0, "match": "HelloWorld"}]"#),
    );
    gives(
        "text.find_all_regex",
        vec![v(r#""aaa""#), v(r#""a+?""#)],
        v(r#"[{"index": 0, "match": "aaa"}]"#),
    );
    // Character indexes, not bytes.
    gives(
        "text.find_all_regex",
        vec![v(r#""héllo wörld""#), v(r#""w.r""#)],
        v(r#"[{"index": 6, "match": "wör"}]"#),
    );
    // The empty expression matches before every character and at the end; an empty match
    // right after a match is skipped.
    gives(
        "text.find_all_regex",
        vec![v(r#""ab""#), v(r#""""#)],
        v(r#"[{"index": 0, "match": ""}, {"index": 1, "match": ""}, {"index": 2, "match": ""}]"#),
    );
    gives(
        "text.find_all_regex",
        vec![v(r#""baaac""#), v(r#""a*""#)],
        v(
            r#"[{"index": 0, "match": ""}, {"index": 1, "match": "aaa"}, {"index": 5, "match": ""}]"#,
        ),
    );
    gives(
        "text.find_all_regex",
        vec![v(r#""abc""#), v(r#""x""#)],
        v("[]"),
    );
    raises(
        "text.find_all_regex",
        vec![v(r#""abc""#), v(r#""(""#)],
        "ValueError",
        "text.find_all_regex: invalid regex",
    );
    raises(
        "text.find_all_regex",
        vec![v("1"), v(r#""a""#)],
        "TypeError",
        "text.find_all_regex: needs a string, got an integer",
    );

    gives(
        "text.replace_all_regex",
        vec![v(r#""one two""#), v(r#""one|two""#), v(r#""three""#)],
        v(r#""three three""#),
    );
    gives(
        "text.replace_all_regex",
        vec![
            v(r#""HelloWorld!""#),
            v(r#""Hello|HelloWorld""#),
            v(r#""x""#),
        ],
        v(r#""x!""#),
    );
    // No back-references: the replacement is taken as it is.
    gives(
        "text.replace_all_regex",
        vec![v(r#""ab""#), v(r#""(a)""#), v(r#""$1\\1""#)],
        v(r#""$1\\1b""#),
    );
    gives(
        "text.replace_all_regex",
        vec![v(r#""ab""#), v(r#""""#), v(r#""-""#)],
        v(r#""-a-b-""#),
    );
    raises(
        "text.replace_all_regex",
        vec![v(r#""ab""#), v(r#""a""#), v("null")],
        "TypeError",
        "needs a string, got null",
    );
    raises(
        "text.replace_all_regex",
        vec![v(r#""ab""#), v(r#""[""#), v(r#""x""#)],
        "ValueError",
        "invalid regex",
    );
    // A regex whose every match scans to the end for a longer one: refused at the scan
    // budget, not run for minutes (issue #11's rule: no hang).
    let many = Value::str("a".repeat(65_536));
    for f in ["text.find_all_regex", "text.replace_all_regex"] {
        let mut args = vec![many.clone(), v(r#""a|a.*z""#)];
        if f == "text.replace_all_regex" {
            args.push(v(r#""b""#));
        }
        raises(
            f,
            args,
            "ResourceLimitError",
            "the search would examine more than 16777216 bytes",
        );
    }
    // The same text with a regex that stops at once: every character matched.
    let all = call(
        "text.replace_all_regex",
        vec![many.clone(), v(r#""a""#), v(r#""b""#)],
    )
    .unwrap();
    assert_eq!(all, Value::str("b".repeat(65_536)));
    gives(
        "text.find_all_regex",
        vec![v(r#""héllo wörld""#), v(r#""\\bw\\w+""#)],
        v(r#"[{"index": 6, "match": "wörld"}]"#),
    );
    // A result over the value limit is refused before it is built.
    let big = Value::str("a".repeat(300_000));
    raises(
        "text.replace_all_regex",
        vec![big, v(r#""a""#), v(r#""bb""#)],
        "ResourceLimitError",
        "the result would hold 600000 bytes",
    );
}

/// LIB-3's scan budget counts each search once: after an empty match the search moves on a
/// character, it does not search again from where it stands. `(a.*z)?` matches empty at
/// each of 5,001 places of 5,000 `a`s, each time scanning to the end for a `z`: about 12.5
/// million bytes examined, within the 16,777,216 (searching each place twice would be 25
/// million, refused).
#[test]
fn lib_3_an_empty_match_is_searched_for_once() {
    let text = Value::str("a".repeat(5_000));
    gives(
        "text.replace_all_regex",
        vec![text.clone(), v(r#""(a.*z)?""#), v(r#""""#)],
        text,
    );
}

#[test]
fn url_decoding_and_encoding_with_pluses() {
    // GCP's examples.
    gives(
        "text.url_decode",
        vec![v(r#""a%2Fb%2Fc%3Fitem%3Dd%2Be""#)],
        v(r#""a/b/c?item=d+e""#),
    );
    gives(
        "text.url_encode_plus",
        vec![v(r#""a/b/c?item=d+e f""#)],
        v(r#""a%2Fb%2Fc%3Fitem%3Dd%2Be+f""#),
    );
    gives("text.url_decode", vec![v(r#""a+b%20c""#)], v(r#""a b c""#));
    gives("text.url_decode", vec![v(r#""%C3%a9""#)], v(r#""é""#));
    raises(
        "text.url_decode",
        vec![v(r#""ab%zz""#)],
        "ValueError",
        "'%' at character 2 is not followed by two hexadecimal digits",
    );
    raises("text.url_decode", vec![v(r#""%4""#)], "ValueError", "'%'");
    raises(
        "text.url_decode",
        vec![v(r#""%FF""#)],
        "ValueError",
        "not UTF-8",
    );
    raises(
        "text.url_decode",
        vec![v("[]")],
        "TypeError",
        "needs a string, got a list",
    );
    // Letters, digits and .-_ stay; `~` does not (unlike text.url_encode); `%` is encoded.
    gives(
        "text.url_encode_plus",
        vec![v(r#""aZ9.-_~ %é""#)],
        v(r#""aZ9.-_%7E+%25%C3%A9""#),
    );
    gives("text.url_encode", vec![v(r#""a b~""#)], v(r#""a%20b~""#));
    raises(
        "text.url_encode_plus",
        vec![v("true")],
        "TypeError",
        "needs a string, got a boolean",
    );
}

#[test]
fn lib_5_get_type_names_every_type() {
    for (value, name) in [
        (v("null"), "null"),
        (v("true"), "boolean"),
        (v("1"), "integer"),
        (v("1.5"), "double"),
        (v(r#""s""#), "string"),
        (bytes(b"b"), "bytes"),
        (v("[1]"), "list"),
        (v(r#"{"a": 1}"#), "map"),
    ] {
        gives("get_type", vec![value], Value::str(name));
    }
}

/// LIB-3: the forward scans start only where the reverse scan found a match starting, so
/// a regex that matches nowhere costs one pass over the text, not one per position (here
/// `a*b` over 10,000 `a`s would scan about 50 million bytes, over the budget).
#[test]
fn lib_3_no_match_costs_one_pass() {
    let text = Value::str("a".repeat(10_000));
    gives("text.find_all_regex", vec![text, v(r#""a*b""#)], v("[]"));
}

/// LIB-3: a pattern of thousands of states alive at once over a long text (the fuzzer's
/// `"aa" * 50276` over `"aa" * 524288`) is refused within the scan budget, where the
/// `regex` crate alone would take minutes; each regex function takes the same search.
#[test]
fn lib_3_a_long_pattern_over_a_long_text_is_refused_not_slow() {
    let source = Value::str("aa".repeat(50_000));
    for func in ["text.match_regex", "text.find_all_regex"] {
        raises(
            func,
            vec![source.clone(), Value::str("aa".repeat(5_000))],
            "ResourceLimitError",
            "would examine more than",
        );
    }
    // A pattern of a usual size over the same text is answered.
    gives(
        "text.match_regex",
        vec![source, Value::str("aa".repeat(100))],
        v("true"),
    );
}
