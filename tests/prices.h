/* prices.h: the prices group of configs/catalog/us-east-1.cfg as one line of config text, for tests
 * that build studies from inline text (no @include). One line, so that appending it to the last line
 * of an inline catalog leaves the line numbers of what follows unchanged. */
#ifndef TEST_PRICES_H
#define TEST_PRICES_H

#define TEST_PRICES                                                                                        \
    " prices: { region = \"us-east-1\"; date = \"2026-11\"; source = \"configs/catalog/us-east-1.cfg\";"  \
    " elb: { hour = \"$0.0225\"; lcu_hour = \"$0.008\"; lcu_new_connections_per_s = 25.0;"                \
    " lcu_active_connections = 3000.0; lcu_bytes_per_hour = \"1GiB\"; lcu_rule_evaluations_per_s = 1000.0;" \
    " lcu_free_rules = 10; cross_zone_charged = false; };"                                                 \
    " transfer: { zone_per_gib = \"$0.01\"; internet = ( { upto = \"100GiB\"; per_gib = \"$0\"; },"       \
    " { upto = \"10240GiB\"; per_gib = \"$0.09\"; }, { upto = \"51200GiB\"; per_gib = \"$0.085\"; },"      \
    " { upto = \"153600GiB\"; per_gib = \"$0.07\"; }, { per_gib = \"$0.05\"; } ); };"                      \
    " ebs: { gib_month = \"$0.08\"; }; };"

#endif
