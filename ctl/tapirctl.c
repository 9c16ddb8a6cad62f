/* tapirctl.c - STUB */
int main(void) { return 1; }
