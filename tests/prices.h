/* prices.h: the prices group of configs/catalog/us-east-1.cfg as one line of config text, for tests
 * that build studies from inline text (no @include). One line, so that appending it to the last line
 * of an inline catalog leaves the line numbers of what follows unchanged. */
#ifndef TEST_PRICES_H
#define TEST_PRICES_H

#define TEST_PRICES                                                                                        \
    " prices: { region = \"us-east-1\"; date = \"2026-11\"; source = \"configs/catalog/us-east-1.cfg\";"  \
    " elb: { hour = \"$0.0225\"; lcu_hour = \"$0.008\"; lcu_new_connections_per_s = 25.0;"                \
    " lcu_active_connections = 3000.0; lcu_bytes_per_hour = \"1GiB\"; lcu_rule_evaluations_per_s = 1000.0;" \
    " lcu_free_rules = 10; cross_zone_charged = false; lcu_bytes_per_hour_lambda = \"0.4GiB\"; };"                                                 \
    " transfer: { zone_per_gib = \"$0.01\"; internet = ( { upto = \"100GiB\"; per_gib = \"$0\"; },"       \
    " { upto = \"10240GiB\"; per_gib = \"$0.09\"; }, { upto = \"51200GiB\"; per_gib = \"$0.085\"; },"      \
    " { upto = \"153600GiB\"; per_gib = \"$0.07\"; }, { per_gib = \"$0.05\"; } ); };"                      \
    " ebs: { gib_month = \"$0.08\"; };"                                                                      \
    " lambda: { per_million_requests = \"$0.20\";"                                                          \
    " x86_64 = ( { upto = 6e9; per_gb_s = \"$0.0000166667\"; }, { upto = 1.5e10; per_gb_s = \"$0.000015\"; }," \
    " { per_gb_s = \"$0.0000133334\"; } );"                                                                  \
    " arm64 = ( { upto = 7.5e9; per_gb_s = \"$0.0000133334\"; }, { upto = 1.875e10; per_gb_s = \"$0.0000120001\"; }," \
    " { per_gb_s = \"$0.0000106667\"; } );"                                                                  \
    " provisioned_gb_s = \"$0.0000041667\"; provisioned_duration_x86_64 = \"$0.0000097222\";"             \
    " provisioned_duration_arm64 = \"$0.0000077778\"; free_requests = 1000000.0; free_gb_s = 400000.0; };"  \
    " api_gateway: { per_million = ( { upto = 3e8; price = \"$1.00\"; }, { price = \"$0.90\"; } ); }; };"

#endif
