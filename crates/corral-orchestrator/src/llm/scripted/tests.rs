use super::state::Play;
use super::*;

#[test]
fn the_turn_follows_the_conversation_and_the_last_one_repeats() {
    let script = Script::parse(r#"{"turns": [{"text": "one"}, {"text": "two"}]}"#).expect("parses");
    assert_eq!(script.turn(0).text.as_deref(), Some("one"));
    assert_eq!(script.turn(1).text.as_deref(), Some("two"));
    assert_eq!(script.turn(7).text.as_deref(), Some("two"));
}

#[test]
fn failures_come_first_then_the_script() {
    let script =
        Script::parse(r#"{"turns": [{"text": "ok"}], "failures": [{"status": 500, "times": 2}]}"#)
            .expect("parses");
    let state = ServerState {
        script,
        served: AtomicU64::new(0),
        requests: Mutex::new(Vec::new()),
    };
    let body = json!({"messages": []});
    assert!(matches!(state.play(&body), Play::Fail(_)));
    assert!(matches!(state.play(&body), Play::Fail(_)));
    assert!(matches!(state.play(&body), Play::Turn(_)));
}

#[test]
fn a_script_without_turns_or_with_unknown_keys_is_refused() {
    assert!(Script::parse(r#"{"turns": []}"#).is_err());
    let error = Script::parse(r#"{"turns": [{"txt": "typo"}]}"#).expect_err("refused");
    assert!(error.contains("txt"), "{error}");
}
