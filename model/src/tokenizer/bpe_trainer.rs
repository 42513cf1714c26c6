//! The BPE merge loop of the trainer, with incremental pair counts.
//!
//! Recounting every pair after each merge would cost O(corpus) per merge. Instead each
//! pair keeps its count and the list of words it occurs in; merging (a, b) into c visits
//! only those words and adjusts the counts of the pairs around each occurrence. The best
//! pair comes from a max-heap with lazy deletion: an entry whose count is out of date is
//! re-queued with the current count when it reaches the top (counts only change by being
//! re-pushed on increase, so the top entry, once current, is the true maximum).

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use super::script::{merged_script, script_of, Script};
use super::vocab::SPACE_SYMBOL;

/// What may be merged: SentencePiece's `IsValidSentencePiece` rules.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MergeRules {
    /// Longest piece, in characters.
    pub max_piece_chars: usize,
    /// No piece mixes scripts (Latin letters with punctuation, say).
    pub split_by_script: bool,
    /// Digits stay single-character pieces.
    pub split_digits: bool,
}

/// Every symbol (character or merged piece) the trainer has seen, with what the merge
/// rules need to know about it.
#[derive(Debug, Default)]
pub(crate) struct SymbolTable {
    pub texts: Vec<String>,
    n_chars: Vec<u32>,
    /// `None` until the piece has a character with a script ('▁' and marks have none).
    scripts: Vec<Option<Script>>,
    has_digit: Vec<bool>,
    starts_with_space: Vec<bool>,
    by_text: HashMap<String, u32>,
}

impl SymbolTable {
    /// Adds a single-character symbol ('▁' for a space).
    pub fn add_char(&mut self, c: char) -> u32 {
        let script = match script_of(c) {
            Script::Inherited => None,
            _ if c == SPACE_SYMBOL => None,
            script => Some(script),
        };
        self.intern(c.to_string(), 1, script, is_digit(c), c == SPACE_SYMBOL)
    }

    /// The symbol for `a` followed by `b`, created if needed. Two merge paths can spell the
    /// same string ("aa"+"a", "a"+"aa"): they share one symbol, as they share one piece.
    fn merged(&mut self, a: u32, b: u32) -> u32 {
        let (a, b) = (a as usize, b as usize);
        let text = format!("{}{}", self.texts[a], self.texts[b]);
        let script = self.scripts[a].or(self.scripts[b]);
        let digit = self.has_digit[a] || self.has_digit[b];
        self.intern(text, self.n_chars[a] + self.n_chars[b], script, digit, self.starts_with_space[a])
    }

    fn intern(&mut self, text: String, n_chars: u32, script: Option<Script>, digit: bool, space: bool) -> u32 {
        if let Some(&id) = self.by_text.get(&text) {
            return id;
        }
        let id = self.texts.len() as u32;
        self.by_text.insert(text.clone(), id);
        self.texts.push(text);
        self.n_chars.push(n_chars);
        self.scripts.push(script);
        self.has_digit.push(digit);
        self.starts_with_space.push(space);
        id
    }

    fn can_merge(&self, rules: &MergeRules, a: u32, b: u32) -> bool {
        let (a, b) = (a as usize, b as usize);
        (self.n_chars[a] + self.n_chars[b]) as usize <= rules.max_piece_chars
            // '▁' only ever starts a piece (words are cut before each space anyway).
            && !self.starts_with_space[b]
            && !(rules.split_digits && (self.has_digit[a] || self.has_digit[b]))
            && !(rules.split_by_script && merged_script(self.scripts[a], self.scripts[b]).is_err())
    }
}

/// SentencePiece's notion of a digit: ASCII and full-width.
fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || ('\u{FF10}'..='\u{FF19}').contains(&c)
}

/// A pair of adjacent symbols packed as `left << 32 | right`.
type PairKey = u64;

fn pair_key(a: u32, b: u32) -> PairKey {
    (u64::from(a) << 32) | u64::from(b)
}

fn unpack(key: PairKey) -> (u32, u32) {
    ((key >> 32) as u32, key as u32)
}

/// Multiplicative hashing for pair keys: the default SipHash dominates the profile here.
#[derive(Default)]
struct PairHasher(u64);

impl Hasher for PairHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

#[derive(Debug, Default)]
struct PairStats {
    /// Occurrences weighted by word frequency; overlapping ones ("aaa") count twice, as in
    /// SentencePiece.
    count: i64,
    /// Words the pair occurs in; may hold duplicates and words it has since left.
    words: Vec<u32>,
}

/// A heap entry: higher count first, then fewer characters (SentencePiece's order; the
/// last tie-break, the piece text, is applied when popping).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct QueueEntry {
    count: i64,
    n_chars: Reverse<u32>,
    key: PairKey,
}

/// The corpus as symbol sequences plus the pair index over it.
pub(crate) struct BpeTrainer {
    pub symbols: SymbolTable,
    rules: MergeRules,
    words: Vec<Vec<u32>>,
    freqs: Vec<i64>,
    pairs: HashMap<PairKey, PairStats, BuildHasherDefault<PairHasher>>,
    heap: BinaryHeap<QueueEntry>,
    /// `last_visit[w] == merge_serial` when word w was already rewritten by this merge.
    last_visit: Vec<u32>,
    merge_serial: u32,
    /// Pairs whose count grew during the current merge: they need a fresh heap entry.
    grown: Vec<PairKey>,
}

impl BpeTrainer {
    /// Indexes every adjacent pair of `words` (symbol sequences with their frequency).
    pub fn new(symbols: SymbolTable, rules: MergeRules, words: Vec<(Vec<u32>, u64)>) -> Self {
        let (words, freqs): (Vec<_>, Vec<_>) = words.into_iter().map(|(w, f)| (w, f as i64)).unzip();
        let mut trainer = BpeTrainer {
            symbols,
            rules,
            last_visit: vec![0; words.len()],
            words,
            freqs,
            pairs: HashMap::default(),
            heap: BinaryHeap::new(),
            merge_serial: 0,
            grown: Vec::new(),
        };
        for index in 0..trainer.words.len() {
            let freq = trainer.freqs[index];
            for at in 1..trainer.words[index].len() {
                let (a, b) = (trainer.words[index][at - 1], trainer.words[index][at]);
                trainer.add_to_pair(a, b, freq, index as u32);
            }
        }
        trainer.queue_grown_pairs();
        trainer
    }

    /// Pops the most frequent mergeable pair (ties: fewer characters, then smaller text).
    pub fn best_pair(&mut self) -> Option<(u32, u32)> {
        let mut best = self.pop_current()?;
        let mut tied = Vec::new();
        while let Some(&next) = self.heap.peek() {
            if (next.count, next.n_chars) != (best.count, best.n_chars) {
                break;
            }
            self.heap.pop();
            if self.current_count(next.key) != next.count {
                self.requeue(next.key);
                continue;
            }
            if self.text_order(next.key, best.key) == Ordering::Less {
                tied.push(std::mem::replace(&mut best, next));
            } else {
                tied.push(next);
            }
        }
        self.heap.extend(tied);
        Some(unpack(best.key))
    }

    /// Merges every occurrence of (a, b) and returns the merged symbol.
    pub fn merge(&mut self, a: u32, b: u32) -> u32 {
        let merged = self.symbols.merged(a, b);
        self.merge_serial += 1;
        let Some(stats) = self.pairs.remove(&pair_key(a, b)) else {
            return merged;
        };
        for word_index in stats.words {
            if std::mem::replace(&mut self.last_visit[word_index as usize], self.merge_serial) == self.merge_serial {
                continue;
            }
            self.merge_in_word(word_index, a, b, merged);
        }
        // The merged pair's own count was decremented along the way; it is gone for good.
        self.pairs.remove(&pair_key(a, b));
        self.queue_grown_pairs();
        merged
    }

    /// Rewrites one word, updating the counts of the neighbours of each merged occurrence.
    fn merge_in_word(&mut self, word_index: u32, a: u32, b: u32, merged: u32) {
        let word = std::mem::take(&mut self.words[word_index as usize]);
        let freq = self.freqs[word_index as usize];
        let mut rewritten = Vec::with_capacity(word.len());
        let mut at = 0;
        while at < word.len() {
            if at + 1 < word.len() && word[at] == a && word[at + 1] == b {
                // `rewritten.last()` may itself be a fresh `merged` ("abab"): the pair
                // (merged, a) counted a moment ago is then moved to (merged, merged).
                if let Some(&prev) = rewritten.last() {
                    self.add_to_pair(prev, a, -freq, word_index);
                    self.add_to_pair(prev, merged, freq, word_index);
                }
                if let Some(&next) = word.get(at + 2) {
                    self.add_to_pair(b, next, -freq, word_index);
                    self.add_to_pair(merged, next, freq, word_index);
                }
                rewritten.push(merged);
                at += 2;
            } else {
                rewritten.push(word[at]);
                at += 1;
            }
        }
        self.words[word_index as usize] = rewritten;
    }

    fn add_to_pair(&mut self, a: u32, b: u32, delta: i64, word_index: u32) {
        if !self.symbols.can_merge(&self.rules, a, b) {
            return;
        }
        let key = pair_key(a, b);
        let stats = self.pairs.entry(key).or_default();
        stats.count += delta;
        if delta > 0 {
            stats.words.push(word_index);
            self.grown.push(key);
        }
    }

    fn queue_grown_pairs(&mut self) {
        let mut grown = std::mem::take(&mut self.grown);
        grown.sort_unstable();
        grown.dedup();
        for &key in &grown {
            self.requeue(key);
        }
        grown.clear();
        self.grown = grown;
    }

    fn requeue(&mut self, key: PairKey) {
        let count = self.current_count(key);
        if count > 0 {
            let (a, b) = unpack(key);
            let n_chars = self.symbols.n_chars[a as usize] + self.symbols.n_chars[b as usize];
            self.heap.push(QueueEntry { count, n_chars: Reverse(n_chars), key });
        }
    }

    fn current_count(&self, key: PairKey) -> i64 {
        self.pairs.get(&key).map_or(0, |stats| stats.count)
    }

    /// Pops until an entry with an up-to-date count is on top.
    fn pop_current(&mut self) -> Option<QueueEntry> {
        while let Some(entry) = self.heap.pop() {
            if self.current_count(entry.key) == entry.count {
                return Some(entry);
            }
            self.requeue(entry.key);
        }
        None
    }

    /// Compares the texts the two pairs would merge into, then the keys (for determinism
    /// when two paths spell the same text).
    fn text_order(&self, x: PairKey, y: PairKey) -> Ordering {
        let spell = |key| {
            let (a, b) = unpack(key);
            let texts = &self.symbols.texts;
            texts[a as usize].bytes().chain(texts[b as usize].bytes())
        };
        spell(x).cmp(spell(y)).then(x.cmp(&y))
    }
}
