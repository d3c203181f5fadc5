package dev.carelog.connect;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.source.SourceConnector;

/**
 * Copies the lines of a text file into a topic, one record per line; the
 * source offset (the line number) lives in Connect's offsets topic, so a
 * restarted worker resumes after the last line it stored. Used by
 * tests/system/test_connect.py (Kafka Connect in distributed mode).
 */
public class LineFileSourceConnector extends SourceConnector {
  static final ConfigDef CONFIG = new ConfigDef()
      .define("file", ConfigDef.Type.STRING, ConfigDef.Importance.HIGH, "File to read")
      .define("topic", ConfigDef.Type.STRING, ConfigDef.Importance.HIGH, "Topic to write");
  private Map<String, String> props;

  @Override public void start(Map<String, String> props) { this.props = props; }
  @Override public Class<? extends Task> taskClass() { return LineFileSourceTask.class; }
  @Override public List<Map<String, String>> taskConfigs(int maxTasks) { return List.of(props); }
  @Override public void stop() {}
  @Override public ConfigDef config() { return CONFIG; }
  @Override public String version() { return "1"; }
}
