"""Token-count comparison: SentencePiece BPE vs llamaforge's trainer, same data and options.

Trains SentencePiece (model_type=bpe, vocab 4096, byte_fallback, character_coverage 0.9995,
add_dummy_prefix, split_digits off, identity normalization, whitespace kept) on the first
95% of the documents of data/tinystories_sample.txt and counts the tokens it produces on
the last 5%. The llamaforge side of the comparison is

    cargo run --release -p llamaforge-model --example tokenizer_count

which splits the documents the same way (see `split_documents` in both).

Run (from the repository root):
  pip install sentencepiece
  python tests/reference/compare_sentencepiece.py [CORPUS] [VOCAB_SIZE]

Documents are separated by lines holding `<|endoftext|>` and stripped of surrounding
" \\t\\r\\n". SentencePiece reads its training input one line per sentence (that is how it is
fed in practice), so it never learns pieces containing a newline; both tokenizers then
encode each test document as one string, newlines included, without BOS/EOS.
"""

import os
import sys
import tempfile
import time

import sentencepiece as spm


def split_documents(text):
    documents, lines = [], []

    def flush():
        document = "\n".join(lines).strip(" \t\r\n")
        if document:
            documents.append(document)
        lines.clear()

    for line in text.split("\n"):
        if line.strip() == "<|endoftext|>":
            flush()
        else:
            lines.append(line)
    flush()
    return documents


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    corpus = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "data", "tinystories_sample.txt")
    vocab_size = int(sys.argv[2]) if len(sys.argv) > 2 else 4096
    with open(corpus, encoding="utf-8") as f:
        documents = split_documents(f.read())
    n_train = len(documents) * 95 // 100
    train, test = documents[:n_train], documents[n_train:]

    with tempfile.TemporaryDirectory() as tmp:
        train_file = os.path.join(tmp, "train.txt")
        with open(train_file, "w", encoding="utf-8") as f:
            for document in train:
                f.write(document + "\n")
        prefix = os.path.join(tmp, "sp")
        start = time.time()
        spm.SentencePieceTrainer.train(
            input=train_file,
            model_prefix=prefix,
            model_type="bpe",
            vocab_size=vocab_size,
            byte_fallback=True,
            character_coverage=0.9995,
            add_dummy_prefix=True,
            split_digits=False,
            normalization_rule_name="identity",
            remove_extra_whitespaces=False,
            allow_whitespace_only_pieces=False,
            max_sentencepiece_length=16,
            split_by_unicode_script=True,
            split_by_whitespace=True,
            max_sentence_length=1 << 20,
            input_sentence_size=0,
            shuffle_input_sentence=False,
            unk_id=0,
            bos_id=1,
            eos_id=2,
            pad_id=-1,
            num_threads=2,
            minloglevel=2,
        )
        train_seconds = time.time() - start
        sp = spm.SentencePieceProcessor(model_file=prefix + ".model")

    test_tokens = sum(len(sp.encode(document)) for document in test)
    test_bytes = sum(len(document.encode("utf-8")) for document in test)
    print(f"documents: {len(train)} train, {len(test)} test ({test_bytes} bytes)")
    print(f"vocab: {sp.get_piece_size()} pieces, trained in {train_seconds:.3f} s")
    print(f"test tokens: {test_tokens} ({test_bytes / test_tokens:.3f} bytes/token)")


if __name__ == "__main__":
    main()
