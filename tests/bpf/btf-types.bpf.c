/* placeholder */ int x;
