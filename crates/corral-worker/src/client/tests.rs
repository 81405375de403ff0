use corral_proto::event::OutputStream;
use corral_proto::worker::OutputChunk;

use super::last_bytes;

fn chunk(stream: &str, text: &str) -> OutputChunk {
    OutputChunk {
        stream: OutputStream::parse(stream).expect("a stream"),
        text: text.into(),
        exec: None,
    }
}

#[test]
fn the_held_end_of_the_output_is_kept_across_streams() {
    let sent = vec![chunk("stdout", "abc"), chunk("stderr", "defg")];
    assert_eq!(last_bytes(sent.clone(), 0), Vec::new());
    assert_eq!(last_bytes(sent.clone(), 2), vec![chunk("stderr", "fg")]);
    assert_eq!(
        last_bytes(sent.clone(), 5),
        vec![chunk("stdout", "c"), chunk("stderr", "defg")]
    );
    assert_eq!(last_bytes(sent.clone(), 99), sent);
}
