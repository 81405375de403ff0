//! The corpus: texts of about 1 MiB of filler with blocks planted at
//! random lines, built from a fixed seed, and what redacting each must
//! find (the name of every planting, in order) and leave alone (every
//! near-miss and decoy, in order).

use super::{filler, plant};
use crate::rng::Rng;

/// Bytes of one text, at least.
pub const TEXT_BYTES: usize = 1 << 20;
/// The last bytes of a text hold no planting (the stream's end of one
/// text is the start of the next).
const TAIL: usize = 4 << 10;

/// A planting in a text.
#[derive(Debug, Clone)]
pub struct Planted {
    /// The name its redaction carries.
    pub name: String,
    /// What it is.
    pub kind: &'static str,
    /// Where its block starts in the text.
    pub at: usize,
}

/// One text and what redacting it must do.
pub struct Text {
    /// The text itself.
    pub body: String,
    /// The plantings, in order.
    pub planted: Vec<Planted>,
    /// Strings that must come out as they went in, in order.
    pub decoys: Vec<String>,
}

/// The texts, and the secrets (name, value) the redactor knows.
pub struct Corpus {
    pub texts: Vec<Text>,
    pub secrets: Vec<(String, String)>,
}

impl Corpus {
    /// `count` texts with `secrets` secrets in them, each secret in every
    /// form, `shape_rounds` tokens of each shape, and near-misses.
    pub fn build(count: usize, secrets: usize, shape_rounds: usize) -> Self {
        let mut rng = Rng::new(0x5EED_C0A1_2026_0001);
        let secrets = plant::secrets(&mut rng, secrets);
        let mut blocks = Vec::new();
        for (name, value) in &secrets {
            blocks.extend(plant::secret_forms(&mut rng, name, value));
            blocks.extend(plant::near_misses(&mut rng, value));
        }
        for _ in 0..shape_rounds {
            blocks.extend(plant::token_shapes(&mut rng));
        }
        rng.shuffle(&mut blocks);
        let mut dealt: Vec<Vec<plant::Block>> = (0..count).map(|_| Vec::new()).collect();
        for (index, block) in blocks.into_iter().enumerate() {
            dealt[index % count].push(block);
        }
        let texts = dealt
            .into_iter()
            .map(|blocks| text(&mut rng, blocks))
            .collect();
        Self { texts, secrets }
    }

    /// Bytes in all texts.
    pub fn bytes(&self) -> usize {
        self.texts.iter().map(|text| text.body.len()).sum()
    }

    /// Plantings in all texts.
    pub fn planted(&self) -> usize {
        self.texts.iter().map(|text| text.planted.len()).sum()
    }

    /// Near-misses and decoys in all texts.
    pub fn decoys(&self) -> usize {
        self.texts.iter().map(|text| text.decoys.len()).sum()
    }
}

/// Filler with `blocks` after random lines (never before the first),
/// until [`TEXT_BYTES`].
fn text(rng: &mut Rng, blocks: Vec<plant::Block>) -> Text {
    let mut at: Vec<usize> = blocks
        .iter()
        .map(|_| rng.between(1, TEXT_BYTES - TAIL))
        .collect();
    at.sort_unstable();
    let mut blocks = at.into_iter().zip(blocks).peekable();
    let mut out = Text {
        body: String::with_capacity(TEXT_BYTES + (64 << 10)),
        planted: Vec::new(),
        decoys: Vec::new(),
    };
    out.body.push_str("   Compiling corral-bench v0.1.0\n");
    while out.body.len() < TEXT_BYTES || blocks.peek().is_some() {
        while let Some((_, block)) = blocks.next_if(|(at, _)| *at <= out.body.len()) {
            if let Some(name) = block.expect {
                out.planted.push(Planted {
                    name,
                    kind: block.kind,
                    at: out.body.len(),
                });
            }
            out.body.push_str(&block.text);
            out.decoys.extend(block.decoys);
        }
        filler::push(rng, &mut out.body, &mut out.decoys);
    }
    out
}
