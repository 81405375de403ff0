//! The output the orchestrator's leak detector holds back, unstored: its
//! end is kept by the worker and sent again with the next batch, so an
//! orchestrator that restarted meanwhile still gets it.

use corral_proto::NewEvent;
use corral_proto::event::OutputData;
use corral_proto::worker::OutputChunk;

/// The stream and text of an `output` event.
pub(super) fn output_chunk(event: &NewEvent) -> Option<OutputChunk> {
    let output: OutputData = event.payload()?;
    Some(OutputChunk {
        stream: output.stream,
        text: output.text,
        exec: output.exec,
    })
}

/// The last `count` bytes of `chunks`, in order.
pub(super) fn last_bytes(chunks: Vec<OutputChunk>, mut count: usize) -> Vec<OutputChunk> {
    let mut kept = Vec::new();
    for mut chunk in chunks.into_iter().rev() {
        if count == 0 {
            break;
        }
        if chunk.text.len() > count {
            let mut start = chunk.text.len() - count;
            while !chunk.text.is_char_boundary(start) {
                start -= 1;
            }
            chunk.text.drain(..start);
        }
        count = count.saturating_sub(chunk.text.len());
        kept.push(chunk);
    }
    kept.reverse();
    kept
}
