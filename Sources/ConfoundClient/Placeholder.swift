enum _ConfoundClientPlaceholder {}
