//! Token-shard datasets end to end: write, read through object stores, verify, cache, and
//! refuse corrupted data with a typed error.

use kiln_training::data::manifest::MANIFEST_FILE;
use kiln_training::data::tokenize::{BYTES_EOS, BuildError};
use kiln_training::data::{Dataset, DatasetError, Manifest, Synth, SynthConfig, Tokenizer, build};
use object_store::memory::InMemory;
use object_store::path::Path as StorePath;
use object_store::{ObjectStoreExt, PutPayload};
use std::path::Path;
use std::sync::Arc;

fn synth() -> Synth {
    Synth::new(SynthConfig {
        rows: 50,
        seq_len: 16,
        ..SynthConfig::default()
    })
}

/// Copies a dataset directory into an in-memory object store under `prefix`.
async fn upload(dir: &Path, prefix: &str) -> Arc<InMemory> {
    let store = Arc::new(InMemory::new());
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let bytes = std::fs::read(&path).unwrap();
        let key = StorePath::from(format!("{prefix}/{name}"));
        store.put(&key, PutPayload::from(bytes)).await.unwrap();
    }
    store
}

#[tokio::test]
async fn synthetic_corpus_round_trips_through_a_local_directory() {
    let dir = tempfile::tempdir().unwrap();
    let s = synth();
    let manifest = s.write(dir.path(), 16).unwrap();
    assert_eq!(manifest.total_rows, 50);
    assert_eq!(manifest.shards.len(), 4);
    assert_eq!(manifest.shards[3].rows, 2);
    let ds = Dataset::open_dir(dir.path()).await.unwrap();
    assert_eq!(ds.manifest(), &manifest);
    let got = ds.read_rows(&[49, 0, 17]).await.unwrap();
    let want: Vec<u32> = [49, 0, 17].iter().flat_map(|&r| s.row(r)).collect();
    assert_eq!(got, want);
    ds.verify_all().await.unwrap();
    assert!(matches!(
        ds.read_rows(&[50]).await,
        Err(DatasetError::Row { row: 50, rows: 50 })
    ));
    assert!(matches!(
        ds.shard(4).await,
        Err(DatasetError::NoShard {
            index: 4,
            shards: 4
        })
    ));
    // Every row opens a document and stays inside the vocabulary.
    for r in 0..50 {
        let row = s.row(r);
        assert_eq!(row[0], kiln_training::data::synth::BOS);
        assert!(row.iter().all(|&t| t < 512));
    }
}

#[tokio::test]
async fn object_store_reads_are_verified_and_cached() {
    let dir = tempfile::tempdir().unwrap();
    let s = synth();
    s.write(dir.path(), 16).unwrap();
    let store = upload(dir.path(), "corpus/v1").await;
    let cache = tempfile::tempdir().unwrap();
    let ds = Dataset::open(store.clone(), "corpus/v1", Some(cache.path().into()))
        .await
        .unwrap();
    assert_eq!(ds.read_rows(&[20]).await.unwrap(), s.row(20));
    let cached = cache
        .path()
        .join(format!("{}.bin", ds.manifest().shards[1].blake3));
    assert!(cached.exists(), "shard 1 was not cached");

    // A corrupt cache entry is detected and replaced by a fresh, verified fetch.
    std::fs::write(&cached, b"garbage").unwrap();
    let again = Dataset::open(store.clone(), "corpus/v1", Some(cache.path().into()))
        .await
        .unwrap();
    assert_eq!(again.read_rows(&[21]).await.unwrap(), s.row(21));
    assert_ne!(std::fs::read(&cached).unwrap(), b"garbage");

    // A shard altered in the store (same size) fails its blake3 check.
    let key = StorePath::from("corpus/v1/shard-00002.bin");
    let mut bytes = store
        .get(&key)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec();
    bytes[5] ^= 1;
    store
        .put(&key, PutPayload::from(bytes.clone()))
        .await
        .unwrap();
    let fresh = Dataset::open(store.clone(), "corpus/v1", None)
        .await
        .unwrap();
    assert!(matches!(
        fresh.read_rows(&[33]).await,
        Err(DatasetError::Integrity { .. })
    ));
    // A truncated shard is refused by size before its body is read.
    store
        .put(&key, PutPayload::from(bytes[..40].to_vec()))
        .await
        .unwrap();
    assert!(matches!(
        fresh.read_rows(&[33]).await,
        Err(DatasetError::Size { got: 40, .. })
    ));
    assert!(matches!(
        Dataset::open(store, "absent", None).await,
        Err(DatasetError::Store(_))
    ));
}

#[tokio::test]
async fn tokens_outside_the_manifest_vocabulary_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    synth().write(dir.path(), 64).unwrap();
    let path = dir.path().join(MANIFEST_FILE);
    let mut m = Manifest::parse(&std::fs::read(&path).unwrap()).unwrap();
    m.vocab_size = 16;
    std::fs::write(&path, m.to_json()).unwrap();
    let ds = Dataset::open_dir(dir.path()).await.unwrap();
    assert!(matches!(
        ds.read_rows(&[0]).await,
        Err(DatasetError::Token { vocab: 16, .. })
    ));
}

#[tokio::test]
async fn byte_level_build_of_text_and_jsonl() {
    let input = tempfile::tempdir().unwrap();
    let txt = input.path().join("a.txt");
    std::fs::write(&txt, "hello").unwrap();
    let jsonl = input.path().join("b.jsonl");
    std::fs::write(
        &jsonl,
        "{\"text\":\"abc\"}\n\n{\"text\":\"xyz\",\"id\":2}\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let report = build(
        &Tokenizer::Bytes,
        &[txt, jsonl.clone()],
        "text",
        out.path(),
        4,
        2,
    )
    .unwrap();
    // hello⏚ abc⏚ xyz⏚ = 14 tokens -> 3 rows of 4, 2 tokens left over and reported.
    assert_eq!(report.documents, 3);
    assert_eq!(report.tokens, 14);
    assert_eq!(report.dropped_tail_tokens, 2);
    assert_eq!(report.manifest.total_rows, 3);
    assert_eq!(report.manifest.tokenizer, "bytes-v1");
    let ds = Dataset::open_dir(out.path()).await.unwrap();
    let e = BYTES_EOS;
    let b = |c: char| c as u32;
    assert_eq!(
        ds.read_rows(&[0, 1, 2]).await.unwrap(),
        vec![
            b('h'),
            b('e'),
            b('l'),
            b('l'),
            b('o'),
            e,
            b('a'),
            b('b'),
            b('c'),
            e,
            b('x'),
            b('y'),
        ]
    );

    for bad in [0, 1] {
        let err = build(
            &Tokenizer::Bytes,
            std::slice::from_ref(&jsonl),
            "text",
            out.path(),
            bad,
            2,
        );
        assert!(matches!(err, Err(BuildError::Write(_))), "seq_len {bad}");
    }
    std::fs::write(&jsonl, "{\"text\":\"ok\"}\n{\"body\":\"no text\"}\n").unwrap();
    let err = build(&Tokenizer::Bytes, &[jsonl], "text", out.path(), 4, 2).unwrap_err();
    assert!(err.to_string().contains("b.jsonl:2"), "{err}");
}

#[test]
fn hugging_face_tokenizer_build() {
    let dir = tempfile::tempdir().unwrap();
    let tokenizer_json = r#"{
      "version": "1.0", "truncation": null, "padding": null,
      "added_tokens": [{"id": 0, "content": "</s>", "single_word": false, "lstrip": false,
                        "rstrip": false, "normalized": false, "special": true}],
      "normalizer": null, "pre_tokenizer": {"type": "Whitespace"},
      "post_processor": null, "decoder": null,
      "model": {"type": "WordLevel", "unk_token": "[UNK]",
                "vocab": {"</s>": 0, "[UNK]": 1, "the": 2, "cat": 3, "sat": 4}}
    }"#;
    let path = dir.path().join("tokenizer.json");
    std::fs::write(&path, tokenizer_json).unwrap();
    let tok = Tokenizer::from_file(&path, None).unwrap();
    assert_eq!(tok.eos(), 0);
    assert_eq!(tok.vocab_size(), 5);
    assert!(tok.id().starts_with("hf:") && tok.id().len() == 67);
    assert_eq!(tok.encode("the cat sat on").unwrap(), vec![2, 3, 4, 1]);
    let text = dir.path().join("doc.txt");
    std::fs::write(&text, "the cat sat the cat").unwrap();
    let out = dir.path().join("ds");
    let report = build(&tok, &[text], "text", &out, 3, 8).unwrap();
    assert_eq!(report.manifest.total_rows, 2);
    assert_eq!(report.dropped_tail_tokens, 0);
    assert!(matches!(
        Tokenizer::from_file(&path, Some("<|eot|>")),
        Err(BuildError::Tokenizer(_))
    ));
    std::fs::write(&path, "{}").unwrap();
    assert!(Tokenizer::from_file(&path, None).is_err());
}

#[tokio::test]
async fn shard_paths_may_name_subdirectories() {
    let dir = tempfile::tempdir().unwrap();
    let s = synth();
    let mut manifest = s.write(dir.path(), 32).unwrap();
    let store = Arc::new(InMemory::new());
    for shard in &mut manifest.shards {
        let bytes = std::fs::read(dir.path().join(&shard.path)).unwrap();
        shard.path = format!("shards/v1/{}", shard.path);
        let key = StorePath::from(format!("corpus/{}", shard.path));
        store.put(&key, PutPayload::from(bytes)).await.unwrap();
    }
    let key = StorePath::from(format!("corpus/{MANIFEST_FILE}"));
    store
        .put(&key, PutPayload::from(manifest.to_json().into_bytes()))
        .await
        .unwrap();
    let ds = Dataset::open(store, "corpus", None).await.unwrap();
    assert_eq!(ds.read_rows(&[40]).await.unwrap(), s.row(40));
}
