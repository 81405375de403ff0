//! Reading a TLS ClientHello off the first bytes of a tunnel: records
//! reassembled however the job cuts them (a hello may span several records
//! and any number of reads), up to a size cap, and the one fact a tunnel
//! checks, the server name (SNI). A hello offering Encrypted Client Hello is
//! refused: its real server name is sealed for the far end, so the name this
//! proxy would check is only a cover.
//!
//! The parser is incremental: each byte is looked at once however small the
//! reads, so a job dribbling bytes costs no more than one sending them at once.

/// The TLS record type of handshake messages.
const HANDSHAKE: u8 = 22;
/// The handshake message type of a ClientHello.
const CLIENT_HELLO: u8 = 1;
/// Largest record payload TLS allows (2^14).
const MAX_RECORD: usize = 1 << 14;
/// Largest ClientHello read: real ones stay under a few KiB, post-quantum
/// key shares and session tickets included; 64 KiB is every client's too.
pub const MAX_HELLO: usize = 64 << 10;
/// Most raw bytes read looking for it: the hello and its record headers.
const MAX_RAW: usize = 2 * MAX_HELLO;
/// The `server_name` extension.
const SERVER_NAME: u16 = 0;
/// `encrypted_client_hello` (RFC 9849), and the draft `encrypted_server_name`.
const ENCRYPTED_NAMES: [u16; 2] = [0xfe0d, 0xffce];

/// What a tunnel needs from a ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    /// The one host name it carries in SNI, if any.
    pub server_name: Option<String>,
}

/// Why the first bytes are not a ClientHello a tunnel accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HelloError {
    /// Not a TLS handshake record.
    #[error("the first bytes are not a TLS ClientHello")]
    NotTls,
    /// TLS, but broken.
    #[error("the TLS ClientHello is malformed ({0})")]
    Malformed(&'static str),
    /// Past [`MAX_HELLO`].
    #[error("the TLS ClientHello is over {MAX_HELLO} bytes")]
    TooLarge,
    /// It offers Encrypted Client Hello.
    #[error("the TLS ClientHello offers Encrypted Client Hello, which hides the server it names")]
    Encrypted,
}

/// The bytes a job sent so far, and the handshake reassembled from them.
#[derive(Debug, Default)]
pub struct HelloReader {
    /// Everything read, relayed as is once the hello passes.
    raw: Vec<u8>,
    /// How much of `raw` whole records took.
    consumed: usize,
    /// The handshake bytes of those records.
    handshake: Vec<u8>,
}

impl HelloReader {
    /// Adds `chunk`; the hello once it is whole.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Option<ClientHello>, HelloError> {
        self.raw.extend_from_slice(chunk);
        if self.raw.len() > MAX_RAW {
            return Err(HelloError::TooLarge);
        }
        loop {
            let rest = &self.raw[self.consumed..];
            check_record_start(rest)?;
            let Some(header) = rest.get(..5) else {
                return Ok(None);
            };
            let length = usize::from(u16::from_be_bytes([header[3], header[4]]));
            if length == 0 || length > MAX_RECORD {
                return Err(HelloError::Malformed("record length"));
            }
            let Some(payload) = rest.get(5..5 + length) else {
                return Ok(None);
            };
            self.handshake.extend_from_slice(payload);
            self.consumed += 5 + length;
            if let Some(hello) = self.whole_hello()? {
                return parse_hello(hello).map(Some);
            }
        }
    }

    /// Everything read so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.raw
    }

    /// The ClientHello body, once the handshake holds all of it.
    fn whole_hello(&self) -> Result<Option<&[u8]>, HelloError> {
        let Some(header) = self.handshake.get(..4) else {
            return Ok(None);
        };
        if header[0] != CLIENT_HELLO {
            return Err(HelloError::Malformed(
                "the first handshake message is not a ClientHello",
            ));
        }
        let length = u32::from_be_bytes([0, header[1], header[2], header[3]]) as usize;
        if length > MAX_HELLO {
            return Err(HelloError::TooLarge);
        }
        Ok(self.handshake.get(4..4 + length))
    }
}

/// Checks what is known of the record starting `rest`: a handshake record
/// of TLS (major version 3).
fn check_record_start(rest: &[u8]) -> Result<(), HelloError> {
    let kind_ok = rest.first().is_none_or(|kind| *kind == HANDSHAKE);
    let major_ok = rest.get(1).is_none_or(|major| *major == 3);
    if kind_ok && major_ok {
        Ok(())
    } else {
        Err(HelloError::NotTls)
    }
}

/// A cursor over a ClientHello's fields.
struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    fn take(&mut self, count: usize, what: &'static str) -> Result<&'a [u8], HelloError> {
        let taken = self.0.get(..count).ok_or(HelloError::Malformed(what))?;
        self.0 = &self.0[count..];
        Ok(taken)
    }

    fn number(&mut self, width: usize, what: &'static str) -> Result<usize, HelloError> {
        Ok(self
            .take(width, what)?
            .iter()
            .fold(0, |value, byte| value << 8 | usize::from(*byte)))
    }

    /// A field prefixed by its length in `width` bytes.
    fn vector(&mut self, width: usize, what: &'static str) -> Result<&'a [u8], HelloError> {
        let length = self.number(width, what)?;
        self.take(length, what)
    }
}

/// Reads a ClientHello body (RFC 8446 §4.1.2) for its server name.
fn parse_hello(body: &[u8]) -> Result<ClientHello, HelloError> {
    let mut fields = Fields(body);
    fields.take(2 + 32, "version and random")?;
    if fields.vector(1, "session id")?.len() > 32 {
        return Err(HelloError::Malformed("session id"));
    }
    let suites = fields.vector(2, "cipher suites")?;
    if suites.is_empty() || suites.len() % 2 != 0 {
        return Err(HelloError::Malformed("cipher suites"));
    }
    if fields.vector(1, "compression methods")?.is_empty() {
        return Err(HelloError::Malformed("compression methods"));
    }
    if fields.0.is_empty() {
        return Ok(ClientHello { server_name: None });
    }
    let mut extensions = Fields(fields.vector(2, "extensions")?);
    if !fields.0.is_empty() {
        return Err(HelloError::Malformed("bytes after the extensions"));
    }
    let mut seen = Vec::new();
    let mut server_name = None;
    while !extensions.0.is_empty() {
        let kind = extensions.number(2, "extension type")? as u16;
        let data = extensions.vector(2, "extension")?;
        if seen.contains(&kind) {
            return Err(HelloError::Malformed("an extension sent twice"));
        }
        seen.push(kind);
        if ENCRYPTED_NAMES.contains(&kind) {
            return Err(HelloError::Encrypted);
        }
        if kind == SERVER_NAME {
            server_name = Some(parse_server_name(data)?);
        }
    }
    Ok(ClientHello { server_name })
}

/// The `server_name` extension: exactly one entry, a host name.
fn parse_server_name(data: &[u8]) -> Result<String, HelloError> {
    const WHAT: &str = "server name";
    let mut outer = Fields(data);
    let mut list = Fields(outer.vector(2, WHAT)?);
    if !outer.0.is_empty() || list.number(1, WHAT)? != 0 {
        return Err(HelloError::Malformed(WHAT));
    }
    let name = list.vector(2, WHAT)?;
    let plain = !name.is_empty()
        && name
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_'));
    if !list.0.is_empty() || !plain {
        return Err(HelloError::Malformed(WHAT));
    }
    Ok(String::from_utf8_lossy(name).into_owned())
}

#[cfg(test)]
pub(super) mod tests;
