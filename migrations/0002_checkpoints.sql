-- Published checkpoints: the result model's model.safetensors, content-addressed (blake3) and
-- named by that window's manifest. The bytes live in the object store, not here.
ALTER TABLE checkpoints DROP COLUMN path;
ALTER TABLE checkpoints
    ADD COLUMN digest    BYTEA NOT NULL,
    ADD COLUMN byte_len  BIGINT NOT NULL,
    ADD COLUMN published BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE checkpoints ADD CONSTRAINT checkpoints_manifest
    FOREIGN KEY (win) REFERENCES manifests (win);
