"""Java kafka-clients transactional producer and read_committed consumers
(tests/java TransactionsTest) on its own, so `-k transactions` runs it;
test_java.py runs it too as part of the whole Java suite."""

from test_java import run_java_test


def test_transactions_java(broker):
    run_java_test(broker, "TransactionsTest")
