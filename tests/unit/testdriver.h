/* testdriver.h: a model that stops the engine at chosen instants, so that a unit test acts at exact
 * times between runs: driver_register(s) once per engine, then drive_to(s, driver, t) runs the engine
 * up to instant t (>= now) and fails the test if it did not get there. Include after <cmocka.h>. */
#ifndef TESTDRIVER_H
#define TESTDRIVER_H

#include "sim.h"

static void testdriver_stop(sim *s, void *self, const void *payload)
{
    (void)self;
    (void)payload;
    sim_stop(s);
}

static sim_handler_fn *const testdriver_handlers[1] = {testdriver_stop};
static const char *const testdriver_kinds[1] = {"stop"};
static const sim_model_ops testdriver_ops = {"test_driver", 1, testdriver_handlers, testdriver_kinds, NULL};

static inline uint16_t driver_register(sim *s) { return sim_register(s, &testdriver_ops, NULL); }

static inline void drive_to(sim *s, uint16_t driver, sim_time t)
{
    sim_schedule_at(s, t, driver, 0, NULL, 0);
    sim_run(s);
    assert_int_equal(sim_now(s), t);
}

#endif
