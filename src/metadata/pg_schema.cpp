#include "metadata/pg_schema.h"

#include <fmt/core.h>

#include <string>

namespace carelog::metadata::pg {
namespace {

// Any constant works: it only has to be the same for every broker.
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(7305126834190112515)";

// Text columns use the "C" collation so ordering is bytewise, as in SQLite.
// Mutations are functions: one call is one statement, so one round trip
// and one transaction (READ COMMITTED; each statement inside a function
// takes a fresh snapshot, so a row lock taken first serialises writers).
// Functions raise SQLSTATE "CL" + Kafka error code for expected failures.
constexpr const char* kMigrations[] = {
    // v1: everything the SQLite engine has at its version 6, in one step.
    R"sql(
CREATE TABLE cluster (
  singleton integer PRIMARY KEY CHECK (singleton = 1),
  cluster_id text COLLATE "C" NOT NULL
);
CREATE TABLE topics (
  id bytea PRIMARY KEY CHECK (length(id) = 16),
  name text COLLATE "C" NOT NULL UNIQUE,
  partitions integer NOT NULL CHECK (partitions > 0),
  replication_factor integer NOT NULL,
  created_ms bigint NOT NULL
);
CREATE TABLE topic_configs (
  topic_id bytea NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
  key text COLLATE "C" NOT NULL,
  value text COLLATE "C" NOT NULL,
  PRIMARY KEY (topic_id, key)
);
CREATE TABLE log_start_offsets (
  topic_id bytea NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
  partition_index integer NOT NULL,
  start_offset bigint NOT NULL,
  PRIMARY KEY (topic_id, partition_index)
);
CREATE TABLE producer_id_blocks (
  singleton integer PRIMARY KEY CHECK (singleton = 1),
  next_id bigint NOT NULL
);
INSERT INTO producer_id_blocks (singleton, next_id) VALUES (1, 0);
CREATE TABLE broker_configs (
  key text COLLATE "C" PRIMARY KEY,
  value text COLLATE "C" NOT NULL
);
CREATE TABLE partition_owners (
  topic_id bytea NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
  partition_index integer NOT NULL,
  broker_id integer NOT NULL,
  epoch bigint NOT NULL,
  PRIMARY KEY (topic_id, partition_index)
);
CREATE TABLE committed_offsets (
  group_id text COLLATE "C" NOT NULL,
  topic text COLLATE "C" NOT NULL,
  partition_index integer NOT NULL,
  topic_id bytea NOT NULL CHECK (length(topic_id) = 16),
  committed_offset bigint NOT NULL,
  leader_epoch integer NOT NULL,
  has_metadata boolean NOT NULL,
  metadata text COLLATE "C" NOT NULL,
  commit_ms bigint NOT NULL,
  PRIMARY KEY (group_id, topic, partition_index)
);
CREATE TABLE objects (
  object_key text COLLATE "C" PRIMARY KEY,
  size_bytes bigint NOT NULL CHECK (size_bytes >= 0),
  created_ms bigint NOT NULL,
  state smallint NOT NULL CHECK (state IN (0, 1)),
  delete_after_ms bigint NOT NULL
);
CREATE TABLE object_ranges (
  topic_id bytea NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
  partition_index integer NOT NULL,
  base_offset bigint NOT NULL,
  last_offset bigint NOT NULL CHECK (last_offset >= base_offset),
  max_timestamp bigint NOT NULL,
  object_key text COLLATE "C" NOT NULL REFERENCES objects(object_key) ON DELETE CASCADE,
  byte_position bigint NOT NULL CHECK (byte_position >= 0),
  byte_length bigint NOT NULL CHECK (byte_length > 0),
  PRIMARY KEY (topic_id, partition_index, base_offset)
);
CREATE INDEX object_ranges_by_object ON object_ranges (object_key);
CREATE TABLE uploaded_offsets (
  topic_id bytea NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
  partition_index integer NOT NULL,
  last_offset bigint NOT NULL,
  PRIMARY KEY (topic_id, partition_index)
);
CREATE TABLE object_id_seq (
  singleton integer PRIMARY KEY CHECK (singleton = 1),
  next_id bigint NOT NULL
);
INSERT INTO object_id_seq (singleton, next_id) VALUES (1, 1);
CREATE TABLE scram_credentials (
  user_name text COLLATE "C" NOT NULL,
  mechanism smallint NOT NULL CHECK (mechanism IN (1, 2)),
  salt bytea NOT NULL,
  stored_key bytea NOT NULL,
  server_key bytea NOT NULL,
  iterations integer NOT NULL CHECK (iterations >= 4096),
  PRIMARY KEY (user_name, mechanism)
);
CREATE TABLE acls (
  resource_type smallint NOT NULL,
  resource_name text COLLATE "C" NOT NULL,
  pattern_type smallint NOT NULL,
  principal text COLLATE "C" NOT NULL,
  host text COLLATE "C" NOT NULL,
  operation smallint NOT NULL,
  permission_type smallint NOT NULL,
  PRIMARY KEY (resource_type, resource_name, pattern_type, principal, host, operation, permission_type)
);
CREATE TABLE producer_snapshots (
  topic_id bytea NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
  partition_index integer NOT NULL,
  snapshot_offset bigint NOT NULL,
  state bytea NOT NULL,
  PRIMARY KEY (topic_id, partition_index)
);

CREATE FUNCTION carelog_b64(b bytea) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT translate(rtrim(encode(b, 'base64'), '='), '+/', '-_') $$;

CREATE FUNCTION carelog_cluster_id(p_new text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE v text;
BEGIN
  SELECT cluster_id INTO v FROM cluster WHERE singleton = 1;
  IF FOUND THEN RETURN v; END IF;
  INSERT INTO cluster (singleton, cluster_id) VALUES (1, p_new) ON CONFLICT (singleton) DO NOTHING;
  SELECT cluster_id INTO v FROM cluster WHERE singleton = 1;
  RETURN v;
END $$;

CREATE FUNCTION carelog_create_topic(p_id bytea, p_name text, p_partitions integer, p_rf integer,
                                     p_created bigint, p_configs jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO topics (id, name, partitions, replication_factor, created_ms)
    VALUES (p_id, p_name, p_partitions, p_rf, p_created) ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN
    IF EXISTS (SELECT 1 FROM topics WHERE name = p_name) THEN
      RAISE EXCEPTION 'topic ''%'' already exists', p_name USING ERRCODE = 'CL036';
    END IF;
    RAISE EXCEPTION 'topic id % already exists', carelog_b64(p_id) USING ERRCODE = 'CL036';
  END IF;
  INSERT INTO topic_configs (topic_id, key, value) SELECT p_id, e.key, e.value FROM jsonb_each_text(p_configs) e;
END $$;

CREATE FUNCTION carelog_set_partition_count(p_id bytea, p_count integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE v_cur integer;
BEGIN
  SELECT partitions INTO v_cur FROM topics WHERE id = p_id FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'topic id % does not exist', carelog_b64(p_id) USING ERRCODE = 'CL003';
  END IF;
  IF p_count < v_cur THEN
    RAISE EXCEPTION 'topic id % has % partitions; cannot reduce to %', carelog_b64(p_id), v_cur, p_count
      USING ERRCODE = 'CL037';
  END IF;
  IF p_count > v_cur THEN UPDATE topics SET partitions = p_count WHERE id = p_id; END IF;
END $$;

CREATE FUNCTION carelog_set_topic_configs(p_id bytea, p_configs jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM topics WHERE id = p_id FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'topic id % does not exist', carelog_b64(p_id) USING ERRCODE = 'CL003';
  END IF;
  DELETE FROM topic_configs WHERE topic_id = p_id;
  INSERT INTO topic_configs (topic_id, key, value) SELECT p_id, e.key, e.value FROM jsonb_each_text(p_configs) e;
END $$;

CREATE FUNCTION carelog_check_partition(p_id bytea, p_partition integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE v_n integer;
BEGIN
  SELECT partitions INTO v_n FROM topics WHERE id = p_id FOR KEY SHARE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'topic id % does not exist', carelog_b64(p_id) USING ERRCODE = 'CL003';
  END IF;
  IF p_partition < 0 OR p_partition >= v_n THEN
    RAISE EXCEPTION 'partition % of topic id % does not exist', p_partition, carelog_b64(p_id)
      USING ERRCODE = 'CL003';
  END IF;
END $$;

CREATE FUNCTION carelog_set_log_start_offset(p_id bytea, p_partition integer, p_offset bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM carelog_check_partition(p_id, p_partition);
  INSERT INTO log_start_offsets (topic_id, partition_index, start_offset) VALUES (p_id, p_partition, p_offset)
    ON CONFLICT (topic_id, partition_index) DO UPDATE SET start_offset = EXCLUDED.start_offset;
END $$;

CREATE FUNCTION carelog_claim_partition(p_id bytea, p_partition integer, p_broker integer)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE v_epoch bigint;
BEGIN
  PERFORM carelog_check_partition(p_id, p_partition);
  INSERT INTO partition_owners (topic_id, partition_index, broker_id, epoch) VALUES (p_id, p_partition, p_broker, 1)
    ON CONFLICT (topic_id, partition_index)
    DO UPDATE SET broker_id = EXCLUDED.broker_id, epoch = partition_owners.epoch + 1
    RETURNING epoch INTO v_epoch;
  RETURN v_epoch;
END $$;

CREATE FUNCTION carelog_set_broker_configs(p_configs jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  LOCK TABLE broker_configs IN SHARE ROW EXCLUSIVE MODE;
  DELETE FROM broker_configs;
  INSERT INTO broker_configs (key, value) SELECT e.key, e.value FROM jsonb_each_text(p_configs) e;
END $$;

CREATE FUNCTION carelog_write_offsets(p_changes jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE c jsonb;
BEGIN
  FOR c IN SELECT e.v FROM jsonb_array_elements(p_changes) WITH ORDINALITY AS e(v, n) ORDER BY e.n LOOP
    IF (c->>'k')::integer = 0 THEN
      INSERT INTO committed_offsets (group_id, topic, partition_index, topic_id, committed_offset, leader_epoch,
                                     has_metadata, metadata, commit_ms)
        VALUES (c->>'g', c->>'t', (c->>'p')::integer, decode(c->>'id', 'hex'), (c->>'o')::bigint,
                (c->>'e')::integer, c ? 'm', coalesce(c->>'m', ''), (c->>'ms')::bigint)
        ON CONFLICT (group_id, topic, partition_index) DO UPDATE SET topic_id = EXCLUDED.topic_id,
          committed_offset = EXCLUDED.committed_offset, leader_epoch = EXCLUDED.leader_epoch,
          has_metadata = EXCLUDED.has_metadata, metadata = EXCLUDED.metadata, commit_ms = EXCLUDED.commit_ms;
    ELSIF (c->>'k')::integer = 1 THEN
      DELETE FROM committed_offsets
        WHERE group_id = c->>'g' AND topic = c->>'t' AND partition_index = (c->>'p')::integer;
    ELSE
      DELETE FROM committed_offsets WHERE group_id = c->>'g';
    END IF;
  END LOOP;
END $$;

-- Retires p_retire (pending delete, ranges dropped), then records each new
-- object and its ranges, then upserts producer snapshots. Ranges arrive
-- sorted by (topic id, partition) so concurrent commits lock partitions in
-- one order. The uploaded_offsets row is the per-partition lock: taken
-- before the overlap check, so two brokers committing the same partition
-- serialise and the second sees the first's ranges.
CREATE FUNCTION carelog_commit_objects(p_retire jsonb, p_delete_after bigint, p_objects jsonb,
                                       p_snapshots jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_key text; o jsonb; r jsonb; v_tid bytea; v_part integer; v_base bigint; v_last bigint;
BEGIN
  FOR v_key IN SELECT jsonb_array_elements_text(p_retire) LOOP
    UPDATE objects SET state = 1, delete_after_ms = p_delete_after WHERE object_key = v_key;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'object ''%'' is not recorded', v_key USING ERRCODE = 'CL042';
    END IF;
    DELETE FROM object_ranges WHERE object_key = v_key;
  END LOOP;
  FOR o IN SELECT e.v FROM jsonb_array_elements(p_objects) AS e(v) LOOP
    INSERT INTO objects (object_key, size_bytes, created_ms, state, delete_after_ms)
      VALUES (o->>'key', (o->>'size')::bigint, (o->>'created')::bigint, 0, 0) ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'object ''%'' is already recorded', o->>'key' USING ERRCODE = 'CL042';
    END IF;
    FOR r IN SELECT e.v FROM jsonb_array_elements(o->'ranges') AS e(v) LOOP
      v_tid := decode(r->>'id', 'hex');
      v_part := (r->>'p')::integer;
      v_base := (r->>'b')::bigint;
      v_last := (r->>'l')::bigint;
      PERFORM 1 FROM topics WHERE id = v_tid FOR KEY SHARE;
      CONTINUE WHEN NOT FOUND;  -- topic deleted while the object was uploading
      INSERT INTO uploaded_offsets (topic_id, partition_index, last_offset) VALUES (v_tid, v_part, v_last)
        ON CONFLICT (topic_id, partition_index)
        DO UPDATE SET last_offset = GREATEST(uploaded_offsets.last_offset, EXCLUDED.last_offset);
      IF EXISTS (SELECT 1 FROM object_ranges WHERE topic_id = v_tid AND partition_index = v_part
                 AND base_offset <= v_last AND last_offset >= v_base) THEN
        RAISE EXCEPTION 'object ''%'': offsets [%, %] of %-% overlap an indexed range', o->>'key', v_base,
          v_last, carelog_b64(v_tid), v_part USING ERRCODE = 'CL042';
      END IF;
      INSERT INTO object_ranges (topic_id, partition_index, base_offset, last_offset, max_timestamp, object_key,
                                 byte_position, byte_length)
        VALUES (v_tid, v_part, v_base, v_last, (r->>'ts')::bigint, o->>'key', (r->>'pos')::bigint,
                (r->>'len')::bigint);
    END LOOP;
  END LOOP;
  FOR r IN SELECT e.v FROM jsonb_array_elements(p_snapshots) AS e(v) LOOP
    v_tid := decode(r->>'id', 'hex');
    PERFORM 1 FROM topics WHERE id = v_tid FOR KEY SHARE;
    CONTINUE WHEN NOT FOUND;
    INSERT INTO producer_snapshots (topic_id, partition_index, snapshot_offset, state)
      VALUES (v_tid, (r->>'p')::integer, (r->>'o')::bigint, decode(r->>'state', 'hex'))
      ON CONFLICT (topic_id, partition_index)
      DO UPDATE SET snapshot_offset = EXCLUDED.snapshot_offset, state = EXCLUDED.state;
  END LOOP;
END $$;

CREATE FUNCTION carelog_alter_scram(p_deletions jsonb, p_upserts jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE d jsonb;
BEGIN
  FOR d IN SELECT e.v FROM jsonb_array_elements(p_deletions) AS e(v) LOOP
    DELETE FROM scram_credentials WHERE user_name = d->>'u' AND mechanism = (d->>'m')::smallint;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'Attempt to delete a user credential that does not exist' USING ERRCODE = 'CL091';
    END IF;
  END LOOP;
  FOR d IN SELECT e.v FROM jsonb_array_elements(p_upserts) WITH ORDINALITY AS e(v, n) ORDER BY e.n LOOP
    INSERT INTO scram_credentials (user_name, mechanism, salt, stored_key, server_key, iterations)
      VALUES (d->>'u', (d->>'m')::smallint, decode(d->>'salt', 'hex'), decode(d->>'sk', 'hex'),
              decode(d->>'vk', 'hex'), (d->>'i')::integer)
      ON CONFLICT (user_name, mechanism) DO UPDATE SET salt = EXCLUDED.salt, stored_key = EXCLUDED.stored_key,
        server_key = EXCLUDED.server_key, iterations = EXCLUDED.iterations;
  END LOOP;
END $$;
)sql",
    // v2: the schema registry (SQLite v7; docs/formats/registry-metadata.md).
    // schema_text can exceed a btree entry, so content lookup goes through
    // an md5 index and then compares the text itself.
    R"sql(
CREATE TABLE registry_schemas (
  id integer PRIMARY KEY CHECK (id > 0),
  schema_type text COLLATE "C" NOT NULL,
  schema_text text COLLATE "C" NOT NULL,
  references_json text COLLATE "C" NOT NULL
);
CREATE INDEX registry_schemas_by_text ON registry_schemas (schema_type, md5(schema_text));
CREATE TABLE registry_versions (
  subject text COLLATE "C" NOT NULL,
  version integer NOT NULL CHECK (version > 0),
  schema_id integer NOT NULL REFERENCES registry_schemas(id),
  deleted boolean NOT NULL,
  PRIMARY KEY (subject, version)
);
CREATE INDEX registry_versions_by_id ON registry_versions (schema_id);
CREATE TABLE registry_settings (
  subject text COLLATE "C" NOT NULL,
  key text COLLATE "C" NOT NULL,
  value text COLLATE "C" NOT NULL,
  PRIMARY KEY (subject, key)
);

-- One registration. Writers serialise on a transaction-scoped advisory
-- lock (registrations are rare; id allocation is MAX(id) + 1 and must see
-- every earlier commit). Every check comes before the first write, so a
-- refusal writes nothing. o_code: 0 done, 1 the subject's latest version is
-- no longer p_expected, 2 id p_id holds other content, 3 version o_version
-- of the subject holds another schema.
CREATE FUNCTION carelog_registry_register(p_subject text, p_type text, p_text text, p_refs text,
    p_id integer, p_version integer, p_expected integer)
    RETURNS TABLE (o_code integer, o_id integer, o_version integer, o_created boolean)
    LANGUAGE plpgsql AS $$
DECLARE
  v_latest integer;
  v_id integer;
  v_new boolean := false;
  v_version integer;
  v_taken integer;
  s registry_schemas%ROWTYPE;
BEGIN
  PERFORM pg_advisory_xact_lock(7305126834190112516);
  SELECT COALESCE(MAX(v.version), 0) INTO v_latest FROM registry_versions v WHERE v.subject = p_subject;
  IF p_expected >= 0 AND v_latest <> p_expected THEN
    RETURN QUERY SELECT 1, 0, 0, false;
    RETURN;
  END IF;
  IF p_id > 0 THEN
    v_id := p_id;
    SELECT * INTO s FROM registry_schemas r WHERE r.id = p_id;
    IF FOUND THEN
      IF s.schema_type <> p_type OR s.schema_text <> p_text OR s.references_json <> p_refs THEN
        RETURN QUERY SELECT 2, p_id, 0, false;
        RETURN;
      END IF;
    ELSE
      v_new := true;
    END IF;
  ELSE
    SELECT r.id INTO v_id FROM registry_schemas r
      WHERE r.schema_type = p_type AND md5(r.schema_text) = md5(p_text) AND r.schema_text = p_text
        AND r.references_json = p_refs
      ORDER BY r.id LIMIT 1;
    IF NOT FOUND THEN
      SELECT COALESCE(MAX(r.id), 0) + 1 INTO v_id FROM registry_schemas r;
      v_new := true;
    END IF;
  END IF;
  IF p_version = 0 AND NOT v_new THEN
    SELECT v.version INTO v_version FROM registry_versions v
      WHERE v.subject = p_subject AND v.schema_id = v_id AND NOT v.deleted
      ORDER BY v.version DESC LIMIT 1;
    IF FOUND THEN
      RETURN QUERY SELECT 0, v_id, v_version, false;
      RETURN;
    END IF;
  END IF;
  v_version := CASE WHEN p_version > 0 THEN p_version ELSE v_latest + 1 END;
  SELECT v.schema_id INTO v_taken FROM registry_versions v
    WHERE v.subject = p_subject AND v.version = v_version;
  IF FOUND THEN
    IF v_taken = v_id THEN
      RETURN QUERY SELECT 0, v_id, v_version, false;  -- the same import, again
    ELSE
      RETURN QUERY SELECT 3, v_id, v_version, false;
    END IF;
    RETURN;
  END IF;
  IF v_new THEN
    INSERT INTO registry_schemas (id, schema_type, schema_text, references_json)
      VALUES (v_id, p_type, p_text, p_refs);
  END IF;
  INSERT INTO registry_versions (subject, version, schema_id, deleted) VALUES (p_subject, v_version, v_id, false);
  RETURN QUERY SELECT 0, v_id, v_version, true;
END $$;
)sql",
    // v3: transaction coordinator state (SQLite v8), one encoded TxnMetadata
    // per transactional id (docs/formats/txn-state.md).
    R"sql(
CREATE TABLE transactions (
  transactional_id text COLLATE "C" PRIMARY KEY,
  state bytea NOT NULL
);
)sql",
    // v4: cluster mode (SQLite v9) (docs/cluster.md): broker registrations with heartbeat
    // leases on the server's clock, and the leader of every partition with
    // its leader epoch. A leadership change locks the partition_leaders row
    // FOR UPDATE; an object commit carrying leader epochs locks the same
    // rows FOR SHARE and checks the epoch first, in its own transaction: a
    // broker that lost the partition can commit nothing (the commit is the
    // fence).
    R"sql(
CREATE TABLE brokers (
  node_id integer PRIMARY KEY CHECK (node_id >= 0),
  broker_epoch bigint NOT NULL,
  endpoints text COLLATE "C" NOT NULL,
  rack text COLLATE "C",
  registered_ms bigint NOT NULL,
  lease_expires_ms bigint NOT NULL
);
CREATE SEQUENCE broker_epoch_seq START WITH 1;
CREATE TABLE partition_leaders (
  topic_id bytea NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
  partition_index integer NOT NULL,
  leader_id integer NOT NULL,
  broker_epoch bigint NOT NULL,
  leader_epoch integer NOT NULL,
  recover_node integer NOT NULL,
  recover_broker_epoch bigint NOT NULL,
  PRIMARY KEY (topic_id, partition_index)
);

CREATE FUNCTION carelog_now_ms() RETURNS bigint LANGUAGE sql VOLATILE AS
$$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint $$;

CREATE FUNCTION carelog_broker_live(p_node integer, p_epoch bigint) RETURNS boolean LANGUAGE sql VOLATILE AS
$$ SELECT EXISTS (SELECT 1 FROM brokers WHERE node_id = p_node AND broker_epoch = p_epoch
                  AND lease_expires_ms > carelog_now_ms()) $$;

-- The advisory lock on the node id serialises two brokers registering the
-- same id: the second sees the first's committed row and its live lease.
CREATE FUNCTION carelog_register_broker(p_node integer, p_endpoints text, p_rack text, p_lease bigint,
                                        OUT o_epoch bigint, OUT o_registered bigint, OUT o_expires bigint)
LANGUAGE plpgsql AS $$
DECLARE o brokers%ROWTYPE;
BEGIN
  PERFORM pg_advisory_xact_lock(1129270348, p_node);
  o_registered := carelog_now_ms();
  SELECT * INTO o FROM brokers WHERE node_id = p_node FOR UPDATE;
  IF FOUND AND o.lease_expires_ms > o_registered THEN
    RAISE EXCEPTION 'node.id % is already registered by a live broker at % (broker epoch %, lease expires in % ms)',
      p_node, o.endpoints, o.broker_epoch, o.lease_expires_ms - o_registered USING ERRCODE = 'CL101';
  END IF;
  o_epoch := nextval('broker_epoch_seq');
  o_expires := o_registered + p_lease;
  INSERT INTO brokers (node_id, broker_epoch, endpoints, rack, registered_ms, lease_expires_ms)
    VALUES (p_node, o_epoch, p_endpoints, p_rack, o_registered, o_expires)
    ON CONFLICT (node_id) DO UPDATE SET broker_epoch = EXCLUDED.broker_epoch, endpoints = EXCLUDED.endpoints,
      rack = EXCLUDED.rack, registered_ms = EXCLUDED.registered_ms, lease_expires_ms = EXCLUDED.lease_expires_ms;
END $$;

CREATE FUNCTION carelog_renew_broker_lease(p_node integer, p_epoch bigint, p_lease bigint)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE v_now bigint := carelog_now_ms();
BEGIN
  UPDATE brokers SET lease_expires_ms = v_now + p_lease
    WHERE node_id = p_node AND broker_epoch = p_epoch AND lease_expires_ms > v_now;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'registration of node.id % with broker epoch % is gone or its lease expired', p_node, p_epoch
      USING ERRCODE = 'CL077';
  END IF;
  RETURN v_now + p_lease;
END $$;

CREATE FUNCTION carelog_fenced(p_id bytea, p_partition integer, p_mine integer, p_current integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'partition %-%: leader epoch % is fenced (current leader epoch %)', carelog_b64(p_id),
    p_partition, p_mine, p_current USING ERRCODE = 'CL074';
END $$;

-- Makes (p_node, p_epoch) the leader at leader epoch + 1 when the row still
-- has p_expected and its leader is released, the caller, or not live.
CREATE FUNCTION carelog_claim_leadership(p_id bytea, p_partition integer, p_node integer, p_epoch bigint,
                                         p_expected integer) RETURNS SETOF partition_leaders
LANGUAGE plpgsql AS $$
DECLARE c partition_leaders%ROWTYPE; n partition_leaders%ROWTYPE; v_self boolean;
BEGIN
  PERFORM carelog_check_partition(p_id, p_partition);
  n.topic_id := p_id; n.partition_index := p_partition; n.leader_id := p_node; n.broker_epoch := p_epoch;
  n.recover_node := -1; n.recover_broker_epoch := 0;
  SELECT * INTO c FROM partition_leaders WHERE topic_id = p_id AND partition_index = p_partition FOR UPDATE;
  IF NOT FOUND THEN
    IF p_expected <> 0 THEN PERFORM carelog_fenced(p_id, p_partition, p_expected, 0); END IF;
    n.leader_epoch := 1;
    INSERT INTO partition_leaders (topic_id, partition_index, leader_id, broker_epoch, leader_epoch, recover_node,
                                   recover_broker_epoch)
      VALUES (p_id, p_partition, p_node, p_epoch, 1, -1, 0) ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN  -- another broker claimed it first
      PERFORM carelog_fenced(p_id, p_partition, p_expected, 1);
    END IF;
    RETURN NEXT n;
    RETURN;
  END IF;
  IF c.leader_epoch <> p_expected THEN PERFORM carelog_fenced(p_id, p_partition, p_expected, c.leader_epoch); END IF;
  v_self := c.leader_id = p_node AND c.broker_epoch = p_epoch;
  IF c.leader_id >= 0 AND NOT v_self AND carelog_broker_live(c.leader_id, c.broker_epoch) THEN
    RAISE EXCEPTION 'partition %-% is led by live broker %', carelog_b64(p_id), p_partition, c.leader_id
      USING ERRCODE = 'CL006';
  END IF;
  n.leader_epoch := c.leader_epoch + 1;
  IF c.recover_node >= 0 THEN  -- the previous takeover never finished
    n.recover_node := c.recover_node; n.recover_broker_epoch := c.recover_broker_epoch;
  ELSIF c.leader_id >= 0 AND NOT v_self THEN
    n.recover_node := c.leader_id; n.recover_broker_epoch := c.broker_epoch;
  END IF;
  UPDATE partition_leaders SET leader_id = n.leader_id, broker_epoch = n.broker_epoch,
    leader_epoch = n.leader_epoch, recover_node = n.recover_node, recover_broker_epoch = n.recover_broker_epoch
    WHERE topic_id = p_id AND partition_index = p_partition;
  RETURN NEXT n;
END $$;

-- p_release: give the partition up (planned move), else only finish a recovery.
CREATE FUNCTION carelog_update_leadership(p_id bytea, p_partition integer, p_epoch integer, p_release boolean)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE partition_leaders SET leader_id = CASE WHEN p_release THEN -1 ELSE leader_id END,
    recover_node = -1, recover_broker_epoch = 0
    WHERE topic_id = p_id AND partition_index = p_partition AND leader_epoch = p_epoch;
  IF NOT FOUND THEN PERFORM carelog_fenced(p_id, p_partition, p_epoch, -1); END IF;
END $$;

-- The fence: every range with a leader epoch ("e") must match its
-- partition's leadership row, locked FOR SHARE until the commit ends (a
-- claim waits for it; it waits for a claim and then sees the new epoch).
CREATE FUNCTION carelog_check_fence(p_objects jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE r jsonb; v_tid bytea; v_part integer; c partition_leaders%ROWTYPE;
BEGIN
  FOR r IN SELECT x.v FROM jsonb_array_elements(p_objects) AS o(v), jsonb_array_elements(o.v->'ranges') AS x(v)
           WHERE x.v ? 'e' ORDER BY x.v->>'id', (x.v->>'p')::integer LOOP
    v_tid := decode(r->>'id', 'hex');
    v_part := (r->>'p')::integer;
    SELECT * INTO c FROM partition_leaders WHERE topic_id = v_tid AND partition_index = v_part FOR SHARE;
    IF NOT FOUND OR c.leader_id < 0 OR c.leader_epoch <> (r->>'e')::integer THEN
      PERFORM carelog_fenced(v_tid, v_part, (r->>'e')::integer, coalesce(c.leader_epoch, 0));
    END IF;
  END LOOP;
END $$;

CREATE FUNCTION carelog_commit_objects_fenced(p_retire jsonb, p_delete_after bigint, p_objects jsonb,
                                              p_snapshots jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM carelog_check_fence(p_objects);
  PERFORM carelog_commit_objects(p_retire, p_delete_after, p_objects, p_snapshots);
END $$;
)sql",
};

constexpr int kCurrent = static_cast<int>(std::size(kMigrations));

Result<int> read_version(Connection& conn) {
  auto rows = conn.exec("SELECT version FROM schema_version", {}, /*read_only=*/true);
  if (!rows.ok()) return rows.take_error();
  if (rows->size() != 1) return Error{kStorageError, "metadata database has no single schema_version row"};
  return static_cast<int>(rows->integer(0, 0));
}

}  // namespace

int current_schema_version() { return kCurrent; }

Result<int> migrate(Connection& conn) {
  CARELOG_RETURN_IF_ERROR(conn.exec_script(fmt::format(
      "BEGIN; {}; "
      "CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL); "
      "INSERT INTO schema_version (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version); "
      "COMMIT;",
      kMigrationLock)));
  for (;;) {
    auto version = read_version(conn);
    if (!version.ok()) return version.take_error();
    int v = *version;
    if (v > kCurrent)
      return Error{
          kStorageError,
          fmt::format("metadata database has schema version {}, newer than this build supports ({}); "
                      "refusing to open it",
                      v, kCurrent)};
    if (v == kCurrent) return v;
    // The UPDATE's WHERE makes a step another broker applied meanwhile a
    // no-op check: the DO block fails, the transaction rolls back, and the
    // loop re-reads the version.
    Status st = conn.exec_script(
        fmt::format("BEGIN; {0}; "
                    "DO $$ BEGIN IF (SELECT version FROM schema_version) <> {1} THEN "
                    "RAISE EXCEPTION 'schema version moved' USING ERRCODE = 'CL000'; END IF; END $$; "
                    "{2}; UPDATE schema_version SET version = {3}; COMMIT;",
                    kMigrationLock, v, kMigrations[v], v + 1));
    if (!st.ok()) {
      auto again = read_version(conn);
      if (again.ok() && *again != v) continue;
      return Error{kStorageError,
                   fmt::format("schema migration to version {} failed: {}", v + 1, st.error().message)};
    }
  }
}

}  // namespace carelog::metadata::pg
