/* stapler-sim run: the agent with the network (see run_command.c). */
#ifndef STAPLER_SIM_RUN_COMMAND_H
#define STAPLER_SIM_RUN_COMMAND_H

int stapler_sim_command_run(int argc, char **argv);

#endif
