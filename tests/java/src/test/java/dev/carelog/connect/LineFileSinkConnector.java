package dev.carelog.connect;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.sink.SinkConnector;

/** Appends every record value of its topics to a file, one line each. */
public class LineFileSinkConnector extends SinkConnector {
  static final ConfigDef CONFIG = new ConfigDef()
      .define("file", ConfigDef.Type.STRING, ConfigDef.Importance.HIGH, "File to append to");
  private Map<String, String> props;

  @Override public void start(Map<String, String> props) { this.props = props; }
  @Override public Class<? extends Task> taskClass() { return LineFileSinkTask.class; }
  @Override public List<Map<String, String>> taskConfigs(int maxTasks) { return List.of(props); }
  @Override public void stop() {}
  @Override public ConfigDef config() { return CONFIG; }
  @Override public String version() { return "1"; }
}
