import EdgeVaultCore
import GRDB

/// The schema, as named append-only migrations. A migration that has shipped is never
/// edited; a change is a new migration. Migrations use SQL only, never app types.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-vault-core") { db in
            try db.execute(sql: """
                CREATE TABLE vault (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    userKeyId TEXT NOT NULL,
                    userSigningKey BLOB NOT NULL,
                    userBoxKey BLOB NOT NULL,
                    logPublicKey BLOB NOT NULL,
                    origin TEXT NOT NULL,
                    createdAt INTEGER NOT NULL
                );
                CREATE TABLE stream (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    kind TEXT NOT NULL DEFAULT '',
                    unit TEXT NOT NULL DEFAULT '',
                    bucketSeconds INTEGER NOT NULL CHECK (bucketSeconds > 0),
                    createdAt INTEGER NOT NULL
                );
                CREATE TABLE segment (
                    ordinal INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    streamId INTEGER NOT NULL REFERENCES stream(id),
                    bucketStart INTEGER NOT NULL,
                    bucketEnd INTEGER NOT NULL,
                    sealedKey BLOB NOT NULL,
                    openedAt INTEGER NOT NULL,
                    closedAt INTEGER,
                    readingCount INTEGER NOT NULL DEFAULT 0,
                    chunkCount INTEGER NOT NULL DEFAULT 0,
                    minTime INTEGER,
                    maxTime INTEGER
                );
                CREATE INDEX segment_by_stream ON segment(streamId, bucketStart);
                CREATE TABLE chunk (
                    segment INTEGER NOT NULL REFERENCES segment(ordinal),
                    seq INTEGER NOT NULL,
                    readingCount INTEGER NOT NULL,
                    ciphertext BLOB NOT NULL
                );
                CREATE UNIQUE INDEX chunk_by_segment ON chunk(segment, seq);
                """)
        }
        migrator.registerMigration("v2-ledger") { db in
            try db.execute(sql: """
                CREATE TABLE ledger_leaf (
                    idx INTEGER PRIMARY KEY,
                    data BLOB NOT NULL,
                    type TEXT NOT NULL,
                    org TEXT,
                    time INTEGER NOT NULL
                );
                CREATE INDEX ledger_leaf_by_type ON ledger_leaf(type, idx);
                CREATE INDEX ledger_leaf_by_org ON ledger_leaf(org, idx) WHERE org IS NOT NULL;
                CREATE TABLE ledger_hash (
                    level INTEGER NOT NULL,
                    idx INTEGER NOT NULL,
                    hash BLOB NOT NULL,
                    PRIMARY KEY (level, idx)
                ) WITHOUT ROWID;
                CREATE TABLE ledger_checkpoint (
                    size INTEGER PRIMARY KEY,
                    root BLOB NOT NULL,
                    note TEXT NOT NULL,
                    createdAt INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("v3-requests") { db in
            try db.execute(sql: """
                CREATE TABLE org (
                    keyId TEXT PRIMARY KEY,
                    publicKey BLOB,
                    name TEXT NOT NULL DEFAULT '',
                    contact TEXT NOT NULL DEFAULT '',
                    trust TEXT NOT NULL DEFAULT 'seen' CHECK (trust IN ('seen', 'pinned', 'blocked')),
                    pinnedName TEXT,
                    firstSeen INTEGER,
                    updatedAt INTEGER NOT NULL
                );
                CREATE TABLE access_request (
                    org TEXT NOT NULL REFERENCES org(keyId),
                    id TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('pending', 'granted', 'denied', 'withdrawn', 'expired')),
                    jws BLOB NOT NULL,
                    payload BLOB NOT NULL,
                    streams TEXT NOT NULL,
                    fromTime INTEGER NOT NULL,
                    toTime INTEGER NOT NULL,
                    expires INTEGER NOT NULL,
                    receivedAt INTEGER NOT NULL,
                    decidedAt INTEGER,
                    reason TEXT,
                    PRIMARY KEY (org, id)
                );
                CREATE INDEX access_request_by_status ON access_request(status, receivedAt);
                CREATE TABLE http_nonce (
                    keyId TEXT NOT NULL,
                    nonce TEXT NOT NULL,
                    expiresAt INTEGER NOT NULL,
                    PRIMARY KEY (keyId, nonce)
                ) WITHOUT ROWID;
                CREATE INDEX http_nonce_by_expiry ON http_nonce(expiresAt);
                """)
        }
        migrator.registerMigration("v4-grants") { db in
            try db.execute(sql: """
                CREATE TABLE grant_record (
                    org TEXT NOT NULL,
                    id TEXT NOT NULL,
                    jws BLOB NOT NULL,
                    deliveryKey BLOB NOT NULL,
                    streams TEXT NOT NULL,
                    fromTime INTEGER NOT NULL,
                    toTime INTEGER NOT NULL,
                    expires INTEGER NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('live', 'revoked')),
                    issuedAt INTEGER NOT NULL,
                    revokedAt INTEGER,
                    leafIndex INTEGER NOT NULL,
                    PRIMARY KEY (org, id),
                    FOREIGN KEY (org, id) REFERENCES access_request(org, id)
                );
                CREATE TABLE grant_key (
                    org TEXT NOT NULL,
                    grantId TEXT NOT NULL,
                    segment INTEGER NOT NULL REFERENCES segment(ordinal),
                    sealedKey BLOB NOT NULL,
                    PRIMARY KEY (org, grantId, segment),
                    FOREIGN KEY (org, grantId) REFERENCES grant_record(org, id)
                );
                """)
        }
        migrator.registerMigration("v5-revocations") { db in
            try db.execute(sql: "ALTER TABLE grant_record ADD COLUMN revocation BLOB")
        }
        migrator.registerMigration("v6-retention") { db in
            // Seconds after a bucket ends that its segments are kept; NULL keeps them forever.
            try db.execute(sql: "ALTER TABLE stream ADD COLUMN retentionSeconds INTEGER CHECK (retentionSeconds > 0)")
        }
        migrator.registerMigration("v7-trust-changes") { db in
            // The person's signed trust changes (docs/PROTOCOL.md §"Trust changes"), each with
            // the index of its ledger leaf; `at` (ms) only grows per organization (no replay).
            try db.execute(sql: """
                CREATE TABLE trust_change (
                    leafIndex INTEGER PRIMARY KEY,
                    org TEXT NOT NULL,
                    action TEXT NOT NULL CHECK (action IN ('pin', 'block', 'unblock')),
                    at INTEGER NOT NULL,
                    jws BLOB NOT NULL
                );
                CREATE INDEX trust_change_by_org ON trust_change(org, at);
                """)
        }
        migrator.registerMigration("v8-retention-changes") { db in
            // The person's signed retention changes (docs/PROTOCOL.md §"Retention changes"),
            // each with the index of its ledger leaf; `at` (ms) only grows per stream.
            try db.execute(sql: """
                CREATE TABLE retention_change (
                    leafIndex INTEGER PRIMARY KEY,
                    stream TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    jws BLOB NOT NULL
                );
                CREATE INDEX retention_change_by_stream ON retention_change(stream, at);
                """)
        }
        migrator.registerMigration("v9-range-deletions") { db in
            // The person's signed range deletions (docs/PROTOCOL.md §"Deleting a range"), each
            // with the index of its `data.deleted` leaf; `at` (ms) only grows per stream.
            try db.execute(sql: """
                CREATE TABLE deletion_change (
                    leafIndex INTEGER PRIMARY KEY,
                    stream TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    jws BLOB NOT NULL
                );
                CREATE INDEX deletion_change_by_stream ON deletion_change(stream, at);
                """)
        }
        migrator.registerMigration("v10-release-counters") { db in
            // What each grant released, kept as the leaves are appended (`countRelease`)
            // instead of re-reading every release leaf per grant: pages served, and readings
            // counted once per distinct page (grant, segment, chunk range).
            try db.execute(sql: """
                ALTER TABLE grant_record ADD COLUMN releasePages INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE grant_record ADD COLUMN releaseReadings INTEGER NOT NULL DEFAULT 0;
                CREATE TABLE released_page (
                    org TEXT NOT NULL,
                    grantId TEXT NOT NULL,
                    segment TEXT NOT NULL,
                    firstSeq INTEGER NOT NULL,
                    lastSeq INTEGER NOT NULL,
                    PRIMARY KEY (org, grantId, segment, firstSeq, lastSeq)
                ) WITHOUT ROWID;
                """)
            // The releases so far, from their leaves (SQLite's JSON functions; the same
            // counting `VaultStore.countRelease` does from now on).
            try db.execute(sql: """
                CREATE TEMP TABLE release_leaf AS
                  SELECT org, json_extract(CAST(data AS TEXT), '$.grant') AS grantId,
                         json_extract(CAST(data AS TEXT), '$.segment') AS segment,
                         json_extract(CAST(data AS TEXT), '$.chunks') AS chunks,
                         CAST(json_extract(CAST(data AS TEXT), '$.count') AS INTEGER) AS readings
                  FROM ledger_leaf WHERE type = 'data.released' AND org IS NOT NULL;
                INSERT OR IGNORE INTO released_page (org, grantId, segment, firstSeq, lastSeq)
                  SELECT org, grantId, segment, CAST(substr(chunks, 1, instr(chunks, '-') - 1) AS INTEGER),
                         CAST(substr(chunks, instr(chunks, '-') + 1) AS INTEGER)
                  FROM release_leaf WHERE grantId IS NOT NULL AND segment IS NOT NULL AND instr(chunks, '-') > 0;
                UPDATE grant_record SET
                  releasePages = (SELECT count(*) FROM release_leaf r WHERE r.org = grant_record.org AND r.grantId = grant_record.id),
                  releaseReadings = coalesce((SELECT sum(readings) FROM (SELECT DISTINCT segment, chunks, readings FROM release_leaf r
                                              WHERE r.org = grant_record.org AND r.grantId = grant_record.id)), 0);
                DROP TABLE release_leaf;
                """)
        }
        migrator.registerMigration("v11-compute") { db in
            // Compute grants (docs/PROTOCOL.md §"Compute jobs"): the job of each such grant, the
            // modules organizations uploaded, and every run with its outcome.
            try db.execute(sql: """
                ALTER TABLE grant_record ADD COLUMN job TEXT;
                CREATE TABLE wasm_module (
                    name TEXT PRIMARY KEY,
                    bytes BLOB NOT NULL,
                    size INTEGER NOT NULL,
                    org TEXT NOT NULL,
                    firstSeen INTEGER NOT NULL
                );
                CREATE INDEX wasm_module_by_org ON wasm_module(org);
                CREATE TABLE compute_run (
                    org TEXT NOT NULL,
                    grantId TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    module TEXT NOT NULL,
                    input TEXT NOT NULL,
                    readings INTEGER NOT NULL,
                    output TEXT,
                    fuel INTEGER NOT NULL,
                    exit INTEGER,
                    reason TEXT,
                    segment TEXT,
                    heldOutput BLOB,
                    heldStderr BLOB,
                    sealedOutput BLOB,
                    leafIndex INTEGER,
                    ranAt INTEGER NOT NULL,
                    PRIMARY KEY (org, grantId, seq)
                );
                CREATE INDEX compute_run_pending ON compute_run(status) WHERE status = 'pending';
                """)
        }
        migrator.registerMigration("v12-witnesses") { db in
            // Peers and witnesses (docs/PROTOCOL.md §"Peers" and §"Witnesses"): the logs this vault
            // witnesses with their state, the person's peers, the cosignatures its own checkpoints
            // collected, each outside witness's progress, and the evidence of refusals.
            try db.execute(sql: WitnessTables.sql)
            try db.execute(sql: """
                CREATE TABLE peer (
                    name TEXT PRIMARY KEY,
                    origin TEXT NOT NULL UNIQUE,
                    logKey TEXT NOT NULL,
                    witnessKey TEXT,
                    url TEXT,
                    leafIndex INTEGER NOT NULL,
                    signedAt INTEGER NOT NULL
                );
                CREATE TABLE peer_change (
                    leafIndex INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    action TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    jws BLOB NOT NULL
                );
                CREATE TABLE witness_target (
                    key TEXT PRIMARY KEY,
                    cosignedSize INTEGER NOT NULL DEFAULT 0,
                    lastSuccess INTEGER,
                    lastAttempt INTEGER,
                    lastError TEXT,
                    failures INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE cosignature (
                    size INTEGER NOT NULL,
                    key TEXT NOT NULL,
                    line TEXT NOT NULL,
                    time INTEGER NOT NULL,
                    PRIMARY KEY (size, key)
                ) WITHOUT ROWID;
                CREATE TABLE witness_alarm (
                    id INTEGER PRIMARY KEY,
                    key TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    status INTEGER NOT NULL,
                    detail TEXT NOT NULL,
                    checkpoint TEXT NOT NULL,
                    response TEXT NOT NULL
                );
                """)
        }
        // The person's signed SLIP-0039 split policies (docs/PROTOCOL.md §"Key recovery"):
        // the documents behind the `recovery.policy` leaves, newest `at` refusing replays.
        migrator.registerMigration("v13-recovery") { db in
            try db.execute(sql: """
                CREATE TABLE recovery_policy (
                    leafIndex INTEGER PRIMARY KEY,
                    at INTEGER NOT NULL,
                    jws BLOB NOT NULL
                );
                """)
        }
        // Fragments (docs/PROTOCOL.md §"Fragments"): shares this vault holds for its peers (the
        // bytes are files under shares/, never in this database, so a backup does not carry
        // them) with their owner's key and the leaves that place them; and the sets this vault
        // placed on its peers, each share's last audit and challenges computed while the
        // share's bytes were at hand.
        migrator.registerMigration("v14-fragments") { db in
            try db.execute(sql: """
                CREATE TABLE held_share (
                    storageIndex TEXT NOT NULL,
                    n INTEGER NOT NULL,
                    sender TEXT NOT NULL,
                    k INTEGER NOT NULL,
                    total INTEGER NOT NULL,
                    setSize INTEGER NOT NULL,
                    length INTEGER NOT NULL,
                    sha256 BLOB NOT NULL,
                    owner BLOB NOT NULL,
                    storedAt INTEGER NOT NULL,
                    PRIMARY KEY (storageIndex, n)
                ) WITHOUT ROWID;
                CREATE INDEX held_share_sender ON held_share (sender);
                CREATE TABLE held_set (
                    storageIndex TEXT PRIMARY KEY,
                    sender TEXT NOT NULL,
                    leafIndex INTEGER NOT NULL,
                    deposit BLOB NOT NULL,
                    storedAt INTEGER NOT NULL
                );
                CREATE INDEX held_set_sender ON held_set (sender, leafIndex);
                CREATE TABLE held_recovery_share (
                    sender TEXT PRIMARY KEY,
                    share BLOB NOT NULL,
                    storedAt INTEGER NOT NULL
                );
                CREATE TABLE fragment_set (
                    storageIndex TEXT PRIMARY KEY,
                    leafIndex INTEGER NOT NULL,
                    push TEXT NOT NULL,
                    segment INTEGER NOT NULL,
                    segments INTEGER NOT NULL,
                    k INTEGER NOT NULL,
                    n INTEGER NOT NULL,
                    size INTEGER NOT NULL,
                    sha256 TEXT NOT NULL,
                    placedAt INTEGER NOT NULL,
                    replacedBy TEXT
                );
                CREATE TABLE fragment_share (
                    storageIndex TEXT NOT NULL,
                    n INTEGER NOT NULL,
                    peer TEXT NOT NULL,
                    url TEXT NOT NULL,
                    sha256 TEXT NOT NULL,
                    auditedAt INTEGER,
                    healthy INTEGER,
                    lastError TEXT,
                    PRIMARY KEY (storageIndex, n)
                ) WITHOUT ROWID;
                CREATE TABLE fragment_challenge (
                    id INTEGER PRIMARY KEY,
                    storageIndex TEXT NOT NULL,
                    n INTEGER NOT NULL,
                    nonce BLOB NOT NULL,
                    proof BLOB NOT NULL
                );
                CREATE INDEX fragment_challenge_share ON fragment_challenge (storageIndex, n);
                """)
        }
        return migrator
    }
}
