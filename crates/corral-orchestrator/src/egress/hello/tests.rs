use super::*;

pub(in crate::egress) use corral_testkit::client_hello as rustls_hello;

/// A `server_name` extension listing `names`.
pub(in crate::egress) fn sni(names: &[&[u8]]) -> (u16, Vec<u8>) {
    let mut list = Vec::new();
    for name in names {
        list.push(0);
        list.extend_from_slice(&(name.len() as u16).to_be_bytes());
        list.extend_from_slice(name);
    }
    let mut data = (list.len() as u16).to_be_bytes().to_vec();
    data.extend(list);
    (SERVER_NAME, data)
}

/// A ClientHello handshake message with `extensions`, cut into records of
/// at most `record` bytes.
pub(in crate::egress) fn hello(extensions: &[(u16, Vec<u8>)], record: usize) -> Vec<u8> {
    let mut listed = Vec::new();
    for (kind, data) in extensions {
        listed.extend_from_slice(&kind.to_be_bytes());
        listed.extend_from_slice(&(data.len() as u16).to_be_bytes());
        listed.extend_from_slice(data);
    }
    let mut body = vec![3, 3];
    body.extend([7; 32]);
    body.extend([0, 0, 2, 0x13, 0x01, 1, 0]);
    body.extend_from_slice(&(listed.len() as u16).to_be_bytes());
    body.extend(listed);
    let mut handshake = vec![CLIENT_HELLO];
    handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend(body);
    records(&handshake, record)
}

fn records(handshake: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in handshake.chunks(size) {
        out.extend([HANDSHAKE, 3, 1]);
        out.extend_from_slice(&(piece.len() as u16).to_be_bytes());
        out.extend_from_slice(piece);
    }
    out
}

fn read_all(bytes: &[u8]) -> Result<Option<ClientHello>, HelloError> {
    HelloReader::default().push(bytes)
}

fn named(name: &str) -> ClientHello {
    ClientHello {
        server_name: Some(name.to_owned()),
    }
}

#[test]
fn a_real_client_hello_yields_its_server_name_however_the_reads_cut_it() {
    let bytes = rustls_hello("api.example.com", true);
    assert_eq!(read_all(&bytes), Ok(Some(named("api.example.com"))));
    let mut reader = HelloReader::default();
    for (index, byte) in bytes.iter().enumerate() {
        let read = reader.push(&[*byte]).expect("valid so far");
        assert_eq!(read.is_some(), index == bytes.len() - 1, "byte {index}");
    }
    assert_eq!(reader.into_bytes(), bytes, "every byte kept to relay");
    let without = rustls_hello("api.example.com", false);
    assert_eq!(
        read_all(&without),
        Ok(Some(ClientHello { server_name: None }))
    );
}

#[test]
fn a_hello_spread_over_many_records_or_past_one_record_is_reassembled() {
    let name = sni(&[b"big.example.com"]);
    assert_eq!(
        read_all(&hello(std::slice::from_ref(&name), 7)),
        Ok(Some(named("big.example.com")))
    );
    // 40 KiB of padding (extension 21): three full records and a bit.
    let padded = hello(&[(21, vec![0; 40 << 10]), name], MAX_RECORD);
    assert!(padded.len() > 2 * MAX_RECORD);
    let mut reader = HelloReader::default();
    let mut found = None;
    for piece in padded.chunks(1000) {
        found = reader.push(piece).expect("valid so far");
    }
    assert_eq!(found, Some(named("big.example.com")));
}

#[test]
fn plain_bytes_and_other_records_are_not_a_hello() {
    for plain in [
        &b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"[..],
        b"SSH-2.0-OpenSSH_9.6\r\n",
        b"\x16",
        b"\x80\x2e\x01\x03\x01",
        b"\x15\x03\x03\x00\x02\x02\x28",
        b"\x17\x03\x03\x00\x05hello",
    ] {
        let read = read_all(plain);
        if plain.len() == 1 {
            assert_eq!(read, Ok(None), "a lone handshake byte needs more");
        } else {
            assert_eq!(read, Err(HelloError::NotTls), "{plain:?}");
        }
    }
    assert_eq!(
        read_all(b"\x16\x03\x01\x00\x00"),
        Err(HelloError::Malformed("record length"))
    );
    let mut server_hello = hello(&[], 100);
    server_hello[5] = 2;
    assert!(matches!(
        read_all(&server_hello),
        Err(HelloError::Malformed(_))
    ));
}

#[test]
fn encrypted_client_hello_and_odd_server_names_are_refused() {
    let name = sni(&[b"front.example.com"]);
    for kind in ENCRYPTED_NAMES {
        assert_eq!(
            read_all(&hello(&[name.clone(), (kind, vec![0; 32])], 1000)),
            Err(HelloError::Encrypted)
        );
    }
    for bad in [
        vec![sni(&[b"a.example.com", b"b.example.com"])],
        vec![sni(&[b"a.example.com\0.evil.com"])],
        vec![sni(&[b"a.example.com/"])],
        vec![sni(&[b""])],
        vec![sni(&[b"a.example.com"]), sni(&[b"a.example.com"])],
        vec![(SERVER_NAME, vec![0, 3, 1, 0, 0])],
    ] {
        assert!(
            matches!(read_all(&hello(&bad, 1000)), Err(HelloError::Malformed(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn a_hello_past_the_cap_is_refused_before_it_is_read_whole() {
    let mut header = vec![HANDSHAKE, 3, 1, 0, 4, CLIENT_HELLO];
    header.extend_from_slice(&((MAX_HELLO + 1) as u32).to_be_bytes()[1..]);
    assert_eq!(read_all(&header), Err(HelloError::TooLarge));
    // A hello declared at the cap, dribbled one byte a record: the record
    // headers alone would pass the cap on the raw bytes.
    let mut reader = HelloReader::default();
    let declared = (MAX_HELLO as u32).to_be_bytes();
    let start = records(&[CLIENT_HELLO, declared[1], declared[2], declared[3]], 1);
    assert_eq!(reader.push(&start), Ok(None));
    let last = reader.push(&records(&vec![0; MAX_HELLO / 2], 1));
    assert_eq!(last, Err(HelloError::TooLarge));
}
