//! Reading documents: plain text separated by `<|endoftext|>` lines (as in
//! data/tinystories_sample.txt), or JSONL with a text field.

use std::path::Path;

use super::DataError;

/// The line that separates documents in a plain-text corpus.
pub const DOC_SEPARATOR: &str = "<|endoftext|>";

/// Reads the documents of `path`. Files ending in `.jsonl` hold one JSON object per line
/// with a string field `text_field`; anything else is plain text split on lines that are
/// exactly [`DOC_SEPARATOR`] (a file without separators is one document). Blank
/// documents are dropped; a file with none left is an error.
pub fn load_documents(path: &Path, text_field: &str) -> Result<Vec<String>, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t,
        Err(e) => {
            let byte = e.valid_up_to();
            let line = bytes[..byte].iter().filter(|&&b| b == b'\n').count() + 1;
            return Err(DataError::NotUtf8 { path: path.to_path_buf(), line, byte });
        }
    };
    let is_jsonl = path.extension().is_some_and(|e| e == "jsonl");
    let docs = if is_jsonl { jsonl_documents(path, text, text_field)? } else { text_documents(text) };
    if docs.is_empty() {
        return Err(DataError::Empty { path: path.to_path_buf() });
    }
    Ok(docs)
}

fn text_documents(text: &str) -> Vec<String> {
    let mut docs = Vec::new();
    let mut current = String::new();
    for line in text.split_inclusive('\n') {
        if line.trim_end_matches(['\n', '\r']) == DOC_SEPARATOR {
            docs.push(std::mem::take(&mut current));
        } else {
            current.push_str(line);
        }
    }
    docs.push(current);
    docs.into_iter().map(|d| d.trim().to_string()).filter(|d| !d.is_empty()).collect()
}

fn jsonl_documents(path: &Path, text: &str, field: &str) -> Result<Vec<String>, DataError> {
    let mut docs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(line).map_err(|e| DataError::BadJson {
            path: path.to_path_buf(),
            line: i + 1,
            message: e.to_string(),
        })?;
        let Some(doc) = value.get(field).and_then(|v| v.as_str()) else {
            return Err(DataError::MissingField { path: path.to_path_buf(), line: i + 1, field: field.to_string() });
        };
        if !doc.trim().is_empty() {
            docs.push(doc.to_string());
        }
    }
    Ok(docs)
}

/// Splits documents deterministically: the first `⌊(1 − val_fraction)·n⌋` train, the rest
/// validate (at least one of each when there are two or more documents and a fraction is
/// asked for). 2,316 stories at 5% → 2,200 train, 116 validation.
pub fn split_documents(docs: &[String], val_fraction: f64) -> (&[String], &[String]) {
    let n = docs.len();
    let mut n_train = ((n as f64) * (1.0 - val_fraction)).floor() as usize;
    if val_fraction > 0.0 && n >= 2 {
        n_train = n_train.clamp(1, n - 1);
    }
    docs.split_at(n_train.min(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_separator_lines_only() {
        let docs = text_documents("a b\n<|endoftext|>\nc <|endoftext|> d\n<|endoftext|>\n\n<|endoftext|>\ne");
        assert_eq!(docs, vec!["a b", "c <|endoftext|> d", "e"]);
    }

    #[test]
    fn split_is_by_document() {
        let docs: Vec<String> = (0..40).map(|i| i.to_string()).collect();
        let (train, val) = split_documents(&docs, 0.05);
        assert_eq!((train.len(), val.len()), (38, 2));
        assert_eq!(val[0], "38");
        let docs: Vec<String> = (0..2316).map(|i| i.to_string()).collect();
        let (train, val) = split_documents(&docs, 0.05);
        assert_eq!((train.len(), val.len()), (2200, 116));
    }
}
