/* stapler-sim offer / status (see agent_commands.c). */
#ifndef STAPLER_SIM_AGENT_COMMANDS_H
#define STAPLER_SIM_AGENT_COMMANDS_H

int stapler_sim_command_offer(int argc, char **argv);
int stapler_sim_command_status(int argc, char **argv);

#endif
