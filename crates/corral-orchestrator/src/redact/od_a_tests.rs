//! `od -a`, which names control bytes and the space (`nl`, `sp`) and
//! prints a byte past ASCII by its low seven bits.

use super::Redactor;
use super::bounds_tests::redacts_whole_and_cut;
use super::group_tests::{NEGATIVE_SECRET, SECRET, every_line_holding_the_secret_goes, od_dumps};

/// `od -a` names the control characters and the space (`nl`, `sp`): a
/// cell with a name is read as its byte. A line with a name in it was no
/// dump line, so a secret on a line with a space or a line break was
/// missed.
#[test]
fn od_a_names_are_read_as_their_bytes() {
    let redactor = Redactor::new([("S", SECRET)]);
    for (flags, expected) in [
        (
            "-a",
            "0000000   a  sp   l   i   n   e  sp   i   n  sp   c   l   e   a   r  nl\n\
             0000020   p   r   e  sp[REDACTED:S]  sp   p   o   s   t  nl\n\
             0000100\n",
        ),
        (
            "-An -a",
            "   a  sp   l   i   n   e  sp   i   n  sp   c   l   e   a   r  nl\n\
             \x20  p   r   e  sp[REDACTED:S]  sp   p   o   s   t  nl\n",
        ),
    ] {
        let (_, dump) = od_dumps()
            .into_iter()
            .find(|(found, _)| *found == flags)
            .expect("in the test data");
        redacts_whole_and_cut(&redactor, &format!("od {flags}"), &dump, expected);
    }
}

/// Without offsets (`od -An -a`), a line that starts with a named cell
/// (`  sp`, ` del`: the text before the secret ended in a space or a
/// control character) is a dump line too: it was taken for none, so the
/// secret that started on it was read from the next line on, and missed.
#[test]
fn od_an_a_lines_may_start_with_a_name() {
    let redactor = Redactor::new([("S", SECRET)]);
    for (dump, expected) in [
        (
            // printf ' e\n\nDzq7-…-Xy\n' | od -An -a
            "  sp   e  nl  nl   D   z   q   7   -   C   o   r   r   e   c   t\n\
             \x20  -   h   o   r   s   e   -   b   a   t   t   e   r   y   -   s\n\
             \x20  t   a   p   l   e   -   4   2   -   X   y  nl\n",
            "  sp   e  nl  nl   D[REDACTED:S]  nl\n",
        ),
        (
            // printf '\x7f\x01 zq7-…-Xy' | od -An -a
            " del soh  sp   z   q   7   -   C   o   r   r   e   c   t   -   h\n\
             \x20  o   r   s   e   -   b   a   t   t   e   r   y   -   s   t   a\n\
             \x20  p   l   e   -   4   2   -   X   y\n",
            " del soh  sp[REDACTED:S]\n",
        ),
    ] {
        redacts_whole_and_cut(&redactor, "od -An -a", dump, expected);
    }
}

/// `od -a` names a byte past ASCII by its low seven bits (`ä`, `c3 a4`,
/// is `C` and `$`): a secret past ASCII is searched that way too, so its
/// cells are found alone and beside another format, with offsets or none
/// (they were missed whole, and left beside the numbers of `od -An -o -a`).
/// With no offsets, a line of such cells prints the bytes of the numbers
/// above it, seven bits of each: it is the same bytes in another format
/// (`alike`), so its group is redacted with it (it started a group of its
/// own, and its cells were read apart from the other lines' cells).
#[test]
fn od_a_of_a_secret_past_ascii_is_read_by_its_low_seven_bits() {
    every_line_holding_the_secret_goes(
        include_str!("testdata/dump_seven_bits.txt"),
        NEGATIVE_SECRET,
        7,
    );
}
