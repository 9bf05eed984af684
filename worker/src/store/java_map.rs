//! Kafka Connect's standalone offsets file: a `java.util.HashMap<byte[],
//! byte[]>` in Java's object serialization format, read and written so an
//! existing `connect.offsets` file carries over in both directions.

use std::fmt;

const MAGIC: u16 = 0xACED;
const VERSION: u16 = 5;
const TC_NULL: u8 = 0x70;
const TC_REFERENCE: u8 = 0x71;
const TC_CLASSDESC: u8 = 0x72;
const TC_OBJECT: u8 = 0x73;
const TC_STRING: u8 = 0x74;
const TC_ARRAY: u8 = 0x75;
const TC_BLOCKDATA: u8 = 0x77;
const TC_ENDBLOCKDATA: u8 = 0x78;
const BASE_HANDLE: u32 = 0x7E_0000;
const HASHMAP_SUID: u64 = 0x0507_DAC1_C316_60D1;
const BYTE_ARRAY_SUID: u64 = 0xACF3_17F8_0608_54E0;

/// Why a file could not be read, with the byte offset.
#[derive(Debug, PartialEq)]
pub struct FormatError {
    pub offset: usize,
    pub reason: String,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: {}", self.offset, self.reason)
    }
}

impl std::error::Error for FormatError {}

/// Map entries: (key bytes, value bytes).
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// Serializes `entries` as Java's `ObjectOutputStream.writeObject(HashMap)`.
pub fn write(entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        64 + entries
            .iter()
            .map(|(k, v)| k.len() + v.len() + 16)
            .sum::<usize>(),
    );
    out.extend_from_slice(&MAGIC.to_be_bytes());
    out.extend_from_slice(&VERSION.to_be_bytes());
    out.push(TC_OBJECT);
    out.push(TC_CLASSDESC);
    utf(&mut out, "java.util.HashMap");
    out.extend_from_slice(&HASHMAP_SUID.to_be_bytes());
    out.push(0x03); // SC_WRITE_METHOD | SC_SERIALIZABLE
    out.extend_from_slice(&2u16.to_be_bytes());
    out.push(b'F');
    utf(&mut out, "loadFactor");
    out.push(b'I');
    utf(&mut out, "threshold");
    out.push(TC_ENDBLOCKDATA);
    out.push(TC_NULL);
    let mut capacity: u32 = 16;
    while (capacity as f64) * 0.75 < entries.len() as f64 {
        capacity *= 2;
    }
    out.extend_from_slice(&0.75f32.to_be_bytes());
    out.extend_from_slice(&((capacity as f64 * 0.75) as u32).to_be_bytes());
    out.push(TC_BLOCKDATA);
    out.push(8);
    out.extend_from_slice(&capacity.to_be_bytes());
    out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    let mut first = true;
    for (k, v) in entries {
        for bytes in [k, v] {
            out.push(TC_ARRAY);
            if first {
                out.push(TC_CLASSDESC);
                utf(&mut out, "[B");
                out.extend_from_slice(&BYTE_ARRAY_SUID.to_be_bytes());
                out.push(0x02); // SC_SERIALIZABLE
                out.extend_from_slice(&0u16.to_be_bytes());
                out.push(TC_ENDBLOCKDATA);
                out.push(TC_NULL);
                first = false;
            } else {
                out.push(TC_REFERENCE);
                out.extend_from_slice(&(BASE_HANDLE + 2).to_be_bytes());
            }
            out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
            out.extend_from_slice(bytes);
        }
    }
    out.push(TC_ENDBLOCKDATA);
    out
}

fn utf(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// What a handle refers to.
#[derive(Clone)]
enum Handle {
    Class(String),
    Array(Vec<u8>),
    Other,
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    handles: Vec<Handle>,
}

impl<'a> Reader<'a> {
    fn err<T>(&self, reason: impl Into<String>) -> Result<T, FormatError> {
        Err(FormatError {
            offset: self.pos,
            reason: reason.into(),
        })
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        if self.data.len() - self.pos < n {
            return self.err(format!("{n} more bytes expected, the file ends"));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, FormatError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, FormatError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, FormatError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn utf(&mut self) -> Result<String, FormatError> {
        let n = self.u16()? as usize;
        Ok(String::from_utf8_lossy(self.take(n)?).into_owned())
    }

    fn handle(&mut self) -> Result<Handle, FormatError> {
        let h = self.u32()?;
        let i = h.wrapping_sub(BASE_HANDLE) as usize;
        match self.handles.get(i) {
            Some(x) => Ok(x.clone()),
            None => self.err(format!("unknown handle {h:#x}")),
        }
    }

    /// A class descriptor (new, reference or null); returns its class name.
    fn class_desc(&mut self) -> Result<Option<String>, FormatError> {
        match self.u8()? {
            TC_NULL => Ok(None),
            TC_REFERENCE => match self.handle()? {
                Handle::Class(name) => Ok(Some(name)),
                _ => self.err("a reference that is not a class descriptor"),
            },
            TC_CLASSDESC => {
                let name = self.utf()?;
                self.take(8)?; // serialVersionUID
                self.handles.push(Handle::Class(name.clone()));
                self.u8()?; // flags
                let fields = self.u16()?;
                for _ in 0..fields {
                    let code = self.u8()?;
                    self.utf()?;
                    if code == b'L' || code == b'[' {
                        match self.u8()? {
                            TC_STRING => {
                                self.utf()?;
                                self.handles.push(Handle::Other);
                            }
                            TC_REFERENCE => {
                                self.handle()?;
                            }
                            t => return self.err(format!("unexpected field type tag {t:#x}")),
                        }
                    }
                }
                self.skip_annotation()?;
                self.class_desc()?; // superclass
                Ok(Some(name))
            }
            t => self.err(format!("expected a class descriptor, found tag {t:#x}")),
        }
    }

    fn skip_annotation(&mut self) -> Result<(), FormatError> {
        loop {
            match self.u8()? {
                TC_ENDBLOCKDATA => return Ok(()),
                TC_BLOCKDATA => {
                    let n = self.u8()? as usize;
                    self.take(n)?;
                }
                t => return self.err(format!("unsupported class annotation tag {t:#x}")),
            }
        }
    }

    fn byte_array(&mut self) -> Result<Vec<u8>, FormatError> {
        match self.u8()? {
            TC_ARRAY => {
                let class = self.class_desc()?;
                if class.as_deref() != Some("[B") {
                    return self.err(format!("expected byte[], found an array of {class:?}"));
                }
                let n = self.u32()? as usize;
                let bytes = self.take(n)?.to_vec();
                self.handles.push(Handle::Array(bytes.clone()));
                Ok(bytes)
            }
            TC_REFERENCE => match self.handle()? {
                Handle::Array(b) => Ok(b),
                _ => self.err("a reference that is not a byte array"),
            },
            t => self.err(format!("expected a byte array, found tag {t:#x}")),
        }
    }
}

/// Reads a serialized `HashMap<byte[],byte[]>`; an empty input is an empty map.
pub fn read(data: &[u8]) -> Result<Entries, FormatError> {
    if data.is_empty() {
        return Ok(Vec::new());
    }
    let mut r = Reader {
        data,
        pos: 0,
        handles: Vec::new(),
    };
    let header = [MAGIC.to_be_bytes(), VERSION.to_be_bytes()].concat();
    if data.get(..4) != Some(header.as_slice()) {
        return r.err("not a Java serialization stream (no 0xACED0005 header)");
    }
    r.pos = 4;
    if r.u8()? != TC_OBJECT {
        return r.err("expected an object");
    }
    let class = r.class_desc()?;
    if class.as_deref() != Some("java.util.HashMap") {
        return r.err(format!("expected java.util.HashMap, found {class:?}"));
    }
    r.handles.push(Handle::Other); // the map itself
    r.take(8)?; // loadFactor, threshold
    if r.u8()? != TC_BLOCKDATA || r.u8()? != 8 {
        return r.err("expected the map's size block");
    }
    r.u32()?; // buckets
    let size = r.u32()?;
    let mut out = Vec::with_capacity(size.min(1 << 16) as usize);
    for _ in 0..size {
        let k = r.byte_array()?;
        let v = r.byte_array()?;
        out.push((k, v));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes Java 17 writes for a HashMap with one entry {[1,2] -> [3]}.
    const JAVA_ONE_ENTRY: &[u8] = &[
        0xac, 0xed, 0x00, 0x05, 0x73, 0x72, 0x00, 0x11, b'j', b'a', b'v', b'a', b'.', b'u', b't',
        b'i', b'l', b'.', b'H', b'a', b's', b'h', b'M', b'a', b'p', 0x05, 0x07, 0xda, 0xc1, 0xc3,
        0x16, 0x60, 0xd1, 0x03, 0x00, 0x02, 0x46, 0x00, 0x0a, b'l', b'o', b'a', b'd', b'F', b'a',
        b'c', b't', b'o', b'r', 0x49, 0x00, 0x09, b't', b'h', b'r', b'e', b's', b'h', b'o', b'l',
        b'd', 0x78, 0x70, 0x3f, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x77, 0x08, 0x00, 0x00,
        0x00, 0x10, 0x00, 0x00, 0x00, 0x01, 0x75, 0x72, 0x00, 0x02, b'[', b'B', 0xac, 0xf3, 0x17,
        0xf8, 0x06, 0x08, 0x54, 0xe0, 0x02, 0x00, 0x00, 0x78, 0x70, 0x00, 0x00, 0x00, 0x02, 0x01,
        0x02, 0x75, 0x71, 0x00, 0x7e, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x03, 0x78,
    ];

    #[test]
    fn writes_what_java_writes() {
        assert_eq!(write(&[(vec![1, 2], vec![3])]), JAVA_ONE_ENTRY);
        assert_eq!(
            read(JAVA_ONE_ENTRY).expect("reads"),
            vec![(vec![1, 2], vec![3])]
        );
    }

    #[test]
    fn round_trip_and_errors_name_the_byte() {
        let entries: Vec<(Vec<u8>, Vec<u8>)> = (0..100)
            .map(|i| {
                (
                    format!("[\"c\",{{\"f\":{i}}}]").into_bytes(),
                    format!("{{\"p\":{i}}}").into_bytes(),
                )
            })
            .collect();
        let bytes = write(&entries);
        assert_eq!(read(&bytes).expect("reads"), entries);
        assert!(read(&[]).expect("empty").is_empty());
        let err = read(&bytes[..bytes.len() / 2]).expect_err("truncated");
        assert!(err.to_string().starts_with("at byte "), "{err}");
        let err = read(b"not java").expect_err("garbage");
        assert_eq!(err.offset, 0);
    }
}
