//! The layouts against the tools themselves, where they are installed
//! (`hexdump`, `xxd`, `od`, `base64`); a missing tool is skipped.

use std::io::Write as _;
use std::process::{Command, Stdio};

use super::*;
use crate::rng::Rng;

/// What `program args` prints for `input`; `None` when it is not there.
fn tool(program: &str, args: &[&str], input: &[u8]) -> Option<String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(input).ok()?;
    let output = child.wait_with_output().ok()?;
    Some(String::from_utf8(output.stdout).expect("the tools print ASCII"))
}

fn inputs() -> Vec<Vec<u8>> {
    let mut rng = Rng::new(7);
    let mut inputs: Vec<Vec<u8>> = (1..40).map(|length| rng.bytes(length * 3 + 1)).collect();
    inputs.push("s3cr/t+\"\\x<é>pad\n\t\0\x07end".as_bytes().to_vec());
    inputs.extend((1..10).map(|length| rng.string(crate::rng::ALNUM, length * 7).into_bytes()));
    inputs
}

#[test]
fn dumps_match_the_tools() {
    type Layout = fn(&[u8]) -> String;
    let cases: [(&str, &[&str], Layout); 9] = [
        ("hexdump", &["-C"], hexdump_canonical),
        ("xxd", &[], xxd),
        ("xxd", &["-p"], xxd_plain),
        ("od", &["-t", "x1"], |bytes| od_bytes(bytes, Offsets::Octal)),
        ("od", &["-An", "-t", "x1"], |bytes| {
            od_bytes(bytes, Offsets::Absent)
        }),
        ("od", &["-A", "x", "-t", "x1z"], od_bytes_printable),
        ("od", &["-c"], |bytes| {
            characters(bytes, Some(Offsets::Octal), false)
        }),
        ("od", &["-An", "-c"], |bytes| characters(bytes, None, false)),
        ("hexdump", &["-c"], |bytes| characters(bytes, None, true)),
    ];
    for input in inputs() {
        for (program, args, layout) in &cases {
            let Some(expected) = tool(program, args, &input) else {
                continue;
            };
            assert_eq!(layout(&input), expected, "{program} {args:?} of {input:?}");
        }
        let even = &input[..input.len() & !1];
        for (program, args, hexdump) in [("od", &["-x"][..], false), ("hexdump", &[][..], true)] {
            if even.is_empty() {
                continue; // `hexdump` prints nothing at all
            }
            if let Some(expected) = tool(program, args, even) {
                assert_eq!(words(even, hexdump), expected, "{program} {args:?}");
            }
        }
        if let Some(expected) = tool("base64", &["-w", "76"], &input) {
            assert_eq!(format!("{}\n", wrap(&base64(&input), 76, "\n")), expected);
        }
    }
}

#[test]
fn escapes_are_those_of_the_serializers() {
    let value = "a\"b\\c/d<é>&";
    assert_eq!(
        json(value, JsonHabits::default()),
        serde_json::to_string(value)
            .expect("json")
            .trim_matches('"')
    );
    let python = JsonHabits {
        ascii: true,
        ..JsonHabits::default()
    };
    assert_eq!(json(value, python), r#"a\"b\\c/d<\u00e9>&"#);
    let go = JsonHabits {
        html: true,
        ..JsonHabits::default()
    };
    assert_eq!(json(value, go), r#"a\"b\\c/d\u003cé\u003e\u0026"#);
    assert_eq!(percent("a/b+é", true), "a%2Fb%2B%C3%A9");
    assert_eq!(base64_url(&[0xfb, 0xff]), "-_8");
}
