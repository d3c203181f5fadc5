package dev.carelog.connect;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;

/** Task of {@link LineFileSourceConnector}: complete lines only, in order. */
public class LineFileSourceTask extends SourceTask {
  private Path file;
  private String topic;
  private Map<String, String> partition;
  private long next;  // line number of the next line to send

  @Override public String version() { return "1"; }

  @Override
  public void start(Map<String, String> props) {
    file = Path.of(props.get("file"));
    topic = props.get("topic");
    partition = Map.of("file", file.toString());
    Map<String, Object> stored = context.offsetStorageReader().offset(partition);
    next = stored == null ? 0 : ((Number) stored.get("line")).longValue();
  }

  @Override
  public List<SourceRecord> poll() throws InterruptedException {
    List<String> lines;
    try {
      if (!Files.exists(file)) {
        Thread.sleep(100);
        return null;
      }
      String text = Files.readString(file, StandardCharsets.UTF_8);
      int end = text.lastIndexOf('\n');
      lines = end < 0 ? List.of() : List.of(text.substring(0, end).split("\n", -1));
    } catch (IOException e) {
      throw new ConnectException(e);
    }
    List<SourceRecord> out = new ArrayList<>();
    for (long i = next; i < lines.size() && out.size() < 500; ++i) {
      out.add(new SourceRecord(partition, Map.of("line", i + 1), topic, null, null, null,
          Schema.STRING_SCHEMA, lines.get((int) i)));
    }
    next += out.size();
    if (out.isEmpty()) {
      Thread.sleep(100);
      return null;
    }
    return out;
  }

  @Override public void stop() {}
}
