/* stapler-sim's OCSP commands (see ocsp_commands.c for their options and exit codes). */
#ifndef STAPLER_SIM_OCSP_COMMANDS_H
#define STAPLER_SIM_OCSP_COMMANDS_H

int stapler_sim_command_request(int argc, char **argv);
int stapler_sim_command_inspect(int argc, char **argv);
int stapler_sim_command_fetch(int argc, char **argv);

#endif
