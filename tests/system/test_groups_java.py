"""Java KafkaConsumer group test (tests/java GroupConsumerTest) on its own,
so `-k groups` runs it; test_java.py runs it too as part of the whole suite."""

from test_java import run_java_test


def test_groups_java_consumer(broker):
    run_java_test(broker, "GroupConsumerTest")
