#include <stdio.h>
int uniap_cmd_plan(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "uniap: not implemented yet\n");
    return 1;
}
