enum _ConfoundServerPlaceholder {}
